"""Independent reference for the io tests: nibabel for NIfTI, pydicom for DICOM, numpy for NRRD.

Run with /usr/bin/python3 (the interpreter that has nibabel). Each command prints one JSON line.
Arrays are compared through sha256 of their little-endian bytes in x-fastest (Fortran) order.
"""
import gzip
import hashlib
import json
import os
import re
import sys

import numpy as np


def sha(arr):
    a = np.asarray(arr)
    a = a.astype(a.dtype.newbyteorder('<'))
    return hashlib.sha256(a.tobytes(order='F')).hexdigest()


def info(files):
    import nibabel as nib
    out = []
    for f in files:
        img = nib.load(f)
        h = img.header
        raw = np.asanyarray(img.dataobj.get_unscaled())
        rgb = raw.dtype.names is not None
        # Colour has no real values: take its bytes for the statistics.
        real = np.frombuffer(raw.tobytes(), 'u1').astype(float) if rgb else img.get_fdata()
        slope, inter = img.dataobj.slope, img.dataobj.inter
        out.append({
            'file': f, 'dtype': 'rgb24' if rgb else raw.dtype.name, 'shape': list(img.shape),
            'affine': img.affine.tolist(),
            'qform': h.get_qform().tolist(), 'sform': h.get_sform().tolist(),
            'qcode': int(h['qform_code']), 'scode': int(h['sform_code']),
            'pixdim': [float(x) for x in h['pixdim']],
            'slope': float(slope), 'inter': float(inter),
            'sha': sha(raw), 'min': float(np.nanmin(real)), 'max': float(np.nanmax(real)),
            'mean': float(np.nanmean(real)),
            'axcodes': ''.join(nib.aff2axcodes(img.affine)),
            'version': 2 if isinstance(img, nib.Nifti2Image) else 1,
        })
    return out


def write(spec_file):
    """Writes NIfTI files from a JSON list of specs: data from a raw little-endian file, header fields."""
    import nibabel as nib
    specs = json.load(open(spec_file))
    rgb = np.dtype([('R', 'u1'), ('G', 'u1'), ('B', 'u1')])
    for s in specs:
        dt = rgb if s['dtype'] == 'rgb24' else np.dtype(s['dtype']).newbyteorder('<')
        data = np.fromfile(s['bin'], dtype=dt).reshape(s['shape'], order='F')
        klass = nib.Nifti2Image if s.get('version') == 2 else nib.Nifti1Image
        hdr = (nib.Nifti2Header if s.get('version') == 2 else nib.Nifti1Header)(endianness=s.get('endian', '<'))
        hdr.set_data_dtype(dt if s['dtype'] == 'rgb24' else np.dtype(s['dtype']))
        img = klass(data, None, header=hdr)
        aff = np.array(s['affine'])
        img.header.set_qform(aff if s['qcode'] else None, code=s['qcode'])
        img.header.set_sform(aff if s['scode'] else None, code=s['scode'])
        if s['qcode'] == 0 and s['scode'] == 0:
            img.header.set_zooms(s['zooms'] + [1] * (len(s['shape']) - 3))
        if 'slope' in s:
            img.header.set_slope_inter(s['slope'], s['inter'])
        img.update_header = lambda: None  # keep the header exactly as set above
        nib.save(img, s['out'])
    return [{'written': len(specs)}]


def canonical(f, out_bin):
    import nibabel as nib
    img = nib.as_closest_canonical(nib.load(f))
    raw = np.asanyarray(img.dataobj.get_unscaled()) if hasattr(img.dataobj, 'get_unscaled') else np.asanyarray(img.dataobj)
    return [{'affine': img.affine.tolist(), 'shape': list(img.shape), 'sha': sha(raw)}]


def nrrd(f):
    """A minimal NRRD reading written for this test only (attached gzip/raw data, LPS/RAS spaces)."""
    blob = open(f, 'rb').read()
    head, _, body = blob.partition(b'\n\n')
    fields = {}
    for line in head.decode('latin1').splitlines()[1:]:
        if line.startswith('#') or ': ' not in line:
            continue
        k, v = line.split(': ', 1)
        fields[k.strip().lower()] = v.strip()
    types = {'short': '<i2', 'int': '<i4', 'ushort': '<u2', 'uchar': 'u1', 'float': '<f4', 'double': '<f8'}
    sizes = [int(x) for x in fields['sizes'].split()]
    raw = gzip.decompress(body) if fields['encoding'] in ('gzip', 'gz') else body
    dt = np.dtype(types[fields['type']])
    if fields.get('endian') == 'big':
        dt = dt.newbyteorder('>')
    data = np.frombuffer(raw, dtype=dt, count=int(np.prod(sizes))).reshape(sizes, order='F')
    dirs = [[float(x) for x in d.split(',')] for d in re.findall(r'\(([^)]*)\)', fields['space directions'])]
    origin = [float(x) for x in re.findall(r'\(([^)]*)\)', fields['space origin'])[0].split(',')]
    aff = np.eye(4)
    aff[:3, :3] = np.array(dirs).T
    aff[:3, 3] = origin
    if fields['space'] in ('left-posterior-superior', 'LPS'):
        aff[:2] *= -1
    return [{'shape': sizes, 'affine': aff.tolist(), 'sha': sha(data), 'dtype': data.dtype.name,
             'min': float(data.min()), 'max': float(data.max()), 'mean': float(data.mean())}]


def dicom_stack(folder, out_bin):
    """pydicom's reading of a series: slices sorted along the normal, stored values and rescale."""
    import pydicom
    from nibabel.nicom import dicomwrappers
    ds = [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]
    iop = np.array(ds[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    ds.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, dtype=float), normal)))
    stack = np.stack([d.pixel_array.T for d in ds], axis=-1)  # (cols, rows, slices): x fastest in F order
    stack.astype(stack.dtype.newbyteorder('<')).tobytes(order='F')
    with open(out_bin, 'wb') as fh:
        fh.write(stack.astype(stack.dtype.newbyteorder('<')).tobytes(order='F'))
    w = dicomwrappers.wrapper_from_data(ds[0])
    p0 = np.array(ds[0].ImagePositionPatient, dtype=float)
    pn = np.array(ds[-1].ImagePositionPatient, dtype=float)
    lps = np.array(w.affine)  # nibabel's single-slice affine: (row, col) index order, LPS
    aff = np.eye(4)
    aff[:3, 0] = lps[:3, 1]  # medseg's i runs along columns (x fastest)
    aff[:3, 1] = lps[:3, 0]
    aff[:3, 2] = (pn - p0) / (len(ds) - 1)
    aff[:3, 3] = p0
    aff[:2] *= -1  # LPS -> RAS
    return [{'shape': list(stack.shape), 'dtype': stack.dtype.name, 'affine': aff.tolist(),
             'slope': float(ds[0].get('RescaleSlope', 1)), 'inter': float(ds[0].get('RescaleIntercept', 0))}]


def transcode(folder, out, syntax, mode, count):
    """Copies a series decompressed into `syntax`; mode 'shuffle' renames files out of order,
    'oblique' also tilts the geometry, 'series2' gives a new SeriesInstanceUID, 'fakejpegls' only relabels the compressed data as JPEG-LS."""
    import pydicom
    from pydicom.uid import UID
    os.makedirs(out, exist_ok=True)
    files = sorted(os.listdir(folder))[:int(count)]
    rot = np.array([[1, 0, 0], [0, np.cos(0.3), -np.sin(0.3)], [0, np.sin(0.3), np.cos(0.3)]])
    for k, f in enumerate(files):
        d = pydicom.dcmread(os.path.join(folder, f))
        if mode == 'fakejpegls':
            d.file_meta.TransferSyntaxUID = UID('1.2.840.10008.1.2.4.80')
            d.save_as(os.path.join(out, f'{k:03d}.dcm'), write_like_original=True)
            continue
        arr = d.pixel_array
        if mode == 'series2':
            d.SeriesInstanceUID = '1.2.826.0.1.3680043.8.498.4242'
        if mode == 'oblique':
            iop = np.array(d.ImageOrientationPatient, dtype=float)
            d.ImageOrientationPatient = [float(x) for x in np.concatenate([rot @ iop[:3], rot @ iop[3:]])]
            d.ImagePositionPatient = [float(x) for x in rot @ np.array(d.ImagePositionPatient, dtype=float)]
        uid = UID(syntax)
        if uid == pydicom.uid.RLELossless:
            d.PixelData = arr.tobytes()
            d.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
            d.is_little_endian, d.is_implicit_VR = True, False
            d['PixelData'].is_undefined_length = False
            d.compress(pydicom.uid.RLELossless, arr, encoding_plugin='pydicom')
        else:
            d.PixelData = arr.astype(arr.dtype.newbyteorder('>' if uid == pydicom.uid.ExplicitVRBigEndian else '<')).tobytes()
            d['PixelData'].is_undefined_length = False
            d['PixelData'].VR = 'OW'
            d.file_meta.TransferSyntaxUID = uid
            d.is_little_endian = uid != pydicom.uid.ExplicitVRBigEndian
            d.is_implicit_VR = uid == pydicom.uid.ImplicitVRLittleEndian
        # Reverse order of names so that sorting by name is wrong.
        d.save_as(os.path.join(out, f'{len(files) - k:03d}.dcm'), write_like_original=False)
    return [{'files': len(files)}]


def synth_series(out, kind, count):
    """Writes a small single-frame series from scratch (no source files): 'ct' int16 with rescale,
    'mr' uint16 with 12 bits stored, 'u8' 8-bit. Oblique orientation, unequal pixel spacing, slices
    2.5 mm apart along the normal, uncompressed explicit VR little endian (transcode the rest)."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    os.makedirs(out, exist_ok=True)
    count = int(count)
    rows, cols = 12, 13
    a = 0.2
    row = np.array([np.cos(a), np.sin(a), 0.0])
    col = np.array([-np.sin(a) * np.cos(0.1), np.cos(a) * np.cos(0.1), np.sin(0.1)])
    normal = np.cross(row, col)
    origin = np.array([-12.5, 30.25, 7.0])
    study, series = generate_uid(prefix='1.2.826.0.1.3680043.8.498.'), generate_uid(prefix='1.2.826.0.1.3680043.8.498.')
    yy, xx = np.mgrid[0:rows, 0:cols]
    for k in range(count):
        if kind == 'ct':
            arr = ((xx * 37 + yy * 101 + k * 613) % 2000 - 1000).astype(np.int16)
            bits, stored, signed = 16, 16, 1
        elif kind == 'mr':
            arr = ((xx * 53 + yy * 211 + k * 977) % 4096).astype(np.uint16)
            bits, stored, signed = 16, 12, 0
        else:
            arr = ((xx * 7 + yy * 19 + k * 41) % 256).astype(np.uint8)
            bits, stored, signed = 8, 8, 0
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2' if kind == 'ct' else '1.2.840.10008.5.1.4.1.1.4'
        meta.MediaStorageSOPInstanceUID = generate_uid(prefix='1.2.826.0.1.3680043.8.498.')
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = '1.2.826.0.1.3680043.8.498.1'
        d = Dataset()
        d.file_meta = meta
        d.preamble = b'\0' * 128
        d.is_little_endian, d.is_implicit_VR = True, False
        d.SOPClassUID = meta.MediaStorageSOPClassUID
        d.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        d.StudyInstanceUID, d.SeriesInstanceUID = study, series
        d.Modality = 'CT' if kind == 'ct' else 'MR'
        d.SeriesDescription = 'medseg synthetic ' + kind
        d.InstanceNumber = k + 1
        d.ImagePositionPatient = [float(v) for v in origin + 2.5 * k * normal]
        d.ImageOrientationPatient = [float(v) for v in np.concatenate([row, col])]
        d.PixelSpacing = [0.8, 0.7]
        d.SliceThickness = 2.5
        d.Rows, d.Columns = rows, cols
        d.SamplesPerPixel = 1
        d.PhotometricInterpretation = 'MONOCHROME2'
        d.BitsAllocated, d.BitsStored, d.HighBit, d.PixelRepresentation = bits, stored, stored - 1, signed
        if kind == 'ct':
            d.RescaleSlope, d.RescaleIntercept = 1, -1024
        d.PixelData = arr.astype(arr.dtype.newbyteorder('<')).tobytes()
        d['PixelData'].VR = 'OW' if bits > 8 else 'OB'
        d.save_as(os.path.join(out, f'{k:03d}.dcm'), write_like_original=False)
    return [{'files': count}]



def dcmtk(tool, folder, out, *args):
    """Runs a DCMTK codec tool (dcmcjpeg, dcmcjpls, dcmdjpeg, dcmdjpls) on every file of a folder."""
    import subprocess
    os.makedirs(out, exist_ok=True)
    files = sorted(os.listdir(folder))
    for f in files:
        subprocess.run([tool, *args, os.path.join(folder, f), os.path.join(out, f)], check=True)
    return [{'files': len(files)}]

def write_nrrd(out, kind, encoding, detached):
    """Writes an NRRD the way ITK/pyradiomics files look (LPS space, oblique space directions, a
    comment and key:=value lines), from numpy, and answers with the ground truth: shape, RAS affine,
    sha of the values. kind: short | float | uchar | ushort; encoding: raw | gzip; detached: 0 | 1
    (a .nhdr with its data in a separate file)."""
    types = {'short': '<i2', 'float': '<f4', 'uchar': 'u1', 'ushort': '<u2'}
    sizes = [7, 5, 4]
    rng = np.random.default_rng(11)
    data = (rng.standard_normal(sizes) * 300).astype(types[kind]) if kind != 'uchar' else rng.integers(0, 255, sizes).astype('u1')
    if kind == 'ushort':
        data = np.abs(rng.standard_normal(sizes) * 900).astype('<u2')
    c, s_ = np.cos(0.3), np.sin(0.3)
    dirs = np.array([[0.9 * c, 0.9 * s_, 0.0], [-1.1 * s_, 1.1 * c, 0.0], [0.0, 0.0, 2.5]])  # rows: axis vectors (LPS)
    origin = np.array([-101.5, 87.25, -33.0])
    fmt = lambda v: '(' + ','.join(repr(float(x)) for x in v) + ')'
    body = data.tobytes(order='F')
    if encoding == 'gzip':
        body = gzip.compress(body)
    lines = ['NRRD0004', '# Complete NRRD file format specification at:', '# http://teem.sourceforge.net/nrrd/format.html',
             'type: ' + kind, 'dimension: 3', 'space: left-posterior-superior', 'sizes: ' + ' '.join(map(str, sizes)),
             'space directions: ' + ' '.join(fmt(d) for d in dirs), 'kinds: domain domain domain',
             'endian: little', 'encoding: ' + encoding, 'space origin: ' + fmt(origin), 'modality:=CT']
    if detached == '1':
        data_name = os.path.basename(out) + ('.raw.gz' if encoding == 'gzip' else '.raw')
        lines.append('data file: ' + data_name)
        open(out, 'w').write('\n'.join(lines) + '\n')
        open(os.path.join(os.path.dirname(out), data_name), 'wb').write(body)
    else:
        open(out, 'wb').write(('\n'.join(lines) + '\n\n').encode() + body)
    aff = np.eye(4)
    aff[:3, :3] = dirs.T
    aff[:3, 3] = origin
    aff[:2] *= -1  # LPS -> RAS
    return [{'shape': sizes, 'affine': aff.tolist(), 'sha': sha(data), 'dtype': data.dtype.name,
             'min': float(data.min()), 'max': float(data.max()), 'mean': float(data.mean())}]

COMMANDS = {
    'info': lambda a: info(a),
    'write': lambda a: write(a[0]),
    'canonical': lambda a: canonical(a[0], a[1]),
    'nrrd': lambda a: nrrd(a[0]),
    'dicom': lambda a: dicom_stack(a[0], a[1]),
    'transcode': lambda a: transcode(a[0], a[1], a[2], a[3], a[4]),
    'synth-series': lambda a: synth_series(a[0], a[1], a[2]),
    'dcmtk': lambda a: dcmtk(*a),
    'write-nrrd': lambda a: write_nrrd(*a),
}

COMMANDS['batch'] = lambda a: [COMMANDS[c[0]](c[1:]) for c in json.loads(a[0])]  # one process, many commands

if __name__ == '__main__':
    print(json.dumps(COMMANDS[sys.argv[1]](sys.argv[2:])))
