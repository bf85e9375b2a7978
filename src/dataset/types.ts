// The one description every dataset layout is read into, so that checking, conversion and training
// never need to know whether the files came as an MSD task, an nnU-Net v2 dataset or a pattern match.

/** Where the dataset description came from. */
export type DatasetLayout = 'msd' | 'nnunet-v2' | 'pattern';

/** One input channel of a case: a 3D file, or volume `index` of a 4D file (MSD stores channels so). */
export interface ChannelFile {
  /** Absolute path. */
  path: string;
  /** Index along the 4th dimension; absent for a 3D file. */
  index?: number;
}

export interface DatasetCase {
  id: string;
  /** One entry per channel, in channel order. */
  channels: ChannelFile[];
  /** Absolute path of the label file; absent for test cases. */
  label?: string;
}

/** A declared class: plain (one value) or, in nnU-Net v2, a region (the union of several values). */
export interface LabelClass {
  name: string;
  values: number[];
  region: boolean;
}

/** A problem found while reading the layout, before any voxel is looked at. */
export interface DatasetIssue {
  severity: 'error' | 'warning';
  /** The case it concerns; absent for dataset-wide problems. */
  caseId?: string;
  message: string;
}

export interface Dataset {
  /** Absolute path of the dataset folder (pattern datasets: the folder the patterns are relative to). */
  root: string;
  layout: DatasetLayout;
  name: string;
  description?: string;
  /** Channel names in channel order, e.g. ['FLAIR', 'T1w'] or ['CT']. */
  channelNames: string[];
  labels: LabelClass[];
  /** Every integer a label file may contain: the union of the declared values, sorted. */
  labelValues: number[];
  /** nnU-Net v2 region training: the order in which regions are painted back into one label map. */
  regionClassOrder?: number[];
  /** Ending of the image files, e.g. '.nii.gz'. */
  fileEnding: string;
  /** numTraining as declared in dataset.json, when it is. */
  numTraining?: number;
  /** Cases whose files were all found. Incomplete ones are left out and described in `issues`. */
  training: DatasetCase[];
  test: DatasetCase[];
  issues: DatasetIssue[];
}
