// The image I/O layer's public API.
export type { NiftiQform, Volume, VolumeHeader, VoxelArray, VoxelType } from './volume.js';
export { ImageFormatError } from './errors.js';
export {
  readImage,
  writeImage,
  detectFormat,
  formatOfName,
  type ImageFormat,
  type WriteImageOptions,
} from './image.js';
export { readNifti, writeNifti, parseNifti, encodeNifti, type NiftiWriteOptions } from './nifti.js';
export { readNrrd, writeNrrd, type NrrdWriteOptions } from './nrrd.js';
export { readDicomSeries, type DicomReadOptions } from './dicom.js';
export { scaledValues, volumeStats, needsFloat64, type Precision, type ValueStats } from './values.js';
export { axisCodes, reorient, permuteAxes } from './orientation.js';
export { spacingOf, qformToAffine, affineToQform } from './affine.js';
export { inspectImage, inspectJson, inspectText, type ImageInfo } from './inspect.js';
export { convertImage, type ConvertOptions, type ConvertResult } from './convert.js';
export { castVolume, toLabelVolume, labelType } from './cast.js';
