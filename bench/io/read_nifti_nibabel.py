"""Times nibabel reading NIfTI files: the stored array (get_unscaled) and float64 real values (get_fdata).

Usage: /usr/bin/python3 bench/io/read_nifti_nibabel.py REPEATS FILE...   Prints one JSON line.
"""
import json
import sys
import time

import nibabel as nib
import numpy as np


def best_of(repeats, files, read):
    best = float('inf')
    for _ in range(repeats):
        t = time.perf_counter()
        for f in files:
            read(f)
        best = min(best, time.perf_counter() - t)
    return best


def main():
    repeats = int(sys.argv[1])
    files = sys.argv[2:]
    raw = best_of(repeats, files, lambda f: np.asarray(nib.load(f).dataobj.get_unscaled()))
    fdata = best_of(repeats, files, lambda f: nib.load(f).get_fdata(dtype=np.float32))
    print(json.dumps({'nibabel': nib.__version__, 'numpy': np.__version__, 'python': sys.version.split()[0], 'raw_s': raw, 'float32_s': fdata}))


main()
