"""The nibabel + scipy equivalent of medseg's preprocessing for bench/preprocess/preprocess_brats.mjs:
crop to the non-zero box, z-score each channel inside the non-zero mask, resample to 1.5 mm
(images order 1, labels order 0). Prints JSON {seconds, voxels} as the last line."""
import json, sys, time
import nibabel as nib
import numpy as np
from scipy import ndimage

t0 = time.perf_counter()
voxels = 0
for d in sys.argv[1:]:
    imgs = [nib.load(f'{d}/{n}') for n in ('Flair_subtrMeanDivStd.nii.gz', 'T1c_subtrMeanDivStd.nii.gz')]
    lab = np.asarray(nib.load(f'{d}/OTMultiClass.nii.gz').dataobj)
    data = np.stack([np.asarray(i.dataobj, dtype=np.float32) for i in imgs])
    spacing = np.array(imgs[0].header.get_zooms()[:3], dtype=np.float64)
    nz = np.any(data != 0, axis=0)
    idx = np.nonzero(nz)
    box = tuple(slice(i.min(), i.max() + 1) for i in idx)
    data = data[(slice(None),) + box]
    lab = lab[box]
    mask = data[0] != 0
    for c in range(data.shape[0]):
        v = data[c][mask]
        data[c] = np.where(mask, (data[c] - v.mean()) / max(v.std(), 1e-8), 0)
    zoom = spacing / 1.5
    out = np.stack([ndimage.zoom(data[c], zoom, order=1) for c in range(data.shape[0])])
    outl = ndimage.zoom(lab, zoom, order=0)
    voxels += out.size
print(json.dumps({'seconds': time.perf_counter() - t0, 'voxels': int(voxels)}))
