# Times scipy.ndimage.label (structure = ones((3,3,3)), i.e. 26-connectivity) on a raw uint8 volume.
#   /usr/bin/python3 bench/postprocess/scipy_label.py FILE D H W REPS
# Prints one JSON line: best and all times in seconds, the component count, peak RSS.
import json, resource, sys, time
import numpy as np
from scipy import ndimage

path, D, H, W, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
mask = np.fromfile(path, dtype=np.uint8).reshape(D, H, W)
structure = np.ones((3, 3, 3), dtype=bool)
times = []
n = 0
for _ in range(reps):
    t0 = time.perf_counter()
    labels, n = ndimage.label(mask, structure=structure)
    times.append(time.perf_counter() - t0)
    del labels
print(json.dumps({
    'seconds': min(times),
    'all': [round(t, 4) for t in times],
    'count': int(n),
    'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    'scipy': __import__('scipy').__version__,
}))
