"""Reference for the DICOM SEG tests, with pydicom: `series DIR` writes a small CT series (slices in
shuffled file order, positions descending); `check SEG DIR` reads a Segmentation object back and prints,
per frame, the source slice's z position (found through the referenced SOP Instance UID), the frame's
own position, its segment number and label name, and the frame as a list of rows."""
import json, os, sys
import numpy as np


def series(folder):
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    os.makedirs(folder, exist_ok=True)
    study, ser, frame = generate_uid(), generate_uid(), generate_uid()
    rows, cols, n = 10, 12, 6
    rng = np.random.default_rng(3)
    order = [3, 0, 5, 1, 4, 2]
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2'
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b'\0' * 128)
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID, ds.Modality = 'Test^Seg', 'P1', 'CT'
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, ser, frame
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-30.0, -20.0, 20.0 - 2.5 * k]
        ds.PixelSpacing = [0.8, 0.7]
        ds.SliceThickness = 2.5
        ds.Rows, ds.Columns = rows, cols
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        ds.PixelData = rng.integers(-100, 300, (rows, cols)).astype('<i2').tobytes()
        ds.save_as(os.path.join(folder, f'img{order[k]}.dcm'), write_like_original=False)


def check(seg_file, folder):
    import pydicom
    src = {}
    for f in os.listdir(folder):
        d = pydicom.dcmread(os.path.join(folder, f))
        src[d.SOPInstanceUID] = float(d.ImagePositionPatient[2])
    seg = pydicom.dcmread(seg_file)
    frames = seg.pixel_array.reshape(int(seg.NumberOfFrames), seg.Rows, seg.Columns)
    names = {int(s.SegmentNumber): str(s.SegmentLabel) for s in seg.SegmentSequence}
    out = []
    for f, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
        uid = item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        out.append({
            'sourceZ': src[uid],
            'frameZ': float(item.PlanePositionSequence[0].ImagePositionPatient[2]),
            'segment': number,
            'name': names[number],
            'mask': frames[f].astype(int).tolist(),
        })
    print(json.dumps({'modality': seg.Modality, 'sopClass': seg.SOPClassUID, 'study': seg.StudyInstanceUID,
                      'patient': str(seg.PatientName), 'frames': out}))


if __name__ == '__main__':
    if sys.argv[1] == 'series':
        series(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
