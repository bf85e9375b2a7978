// DICOM Segmentation objects (Segmentation Storage, binary segments) for a label map predicted on a
// DICOM series: one segment per label with its name, one frame per segment and source slice that holds
// it (empty frames are left out, as the standard allows), each frame referencing its source image by
// SOP Instance UID and placed by ImagePositionPatient, so that PACS viewers overlay it on the series.
import fs from 'node:fs';
import path from 'node:path';
import dicomParser, { type DataSet } from 'dicom-parser';
import { writeFileAtomic } from './atomic.js';
import { ImageFormatError } from './errors.js';
import type { Volume } from './volume.js';
import { encodePart10, newUid, type DicomDataset } from './dicomWriter.js';
import { floats, sortAlongNormal } from './dicom.js';

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

/** What a Segmentation object must copy from, and point to in, its source series. */
export interface SeriesReference {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  /** Patient and study attributes copied as they are (keyed by tag, e.g. 'x00100010'). */
  copied: Record<string, string>;
  orientation: number[];
  /** Row spacing, column spacing (mm), as PixelSpacing. */
  pixelSpacing: [number, number];
  rows: number;
  cols: number;
  /** The slices in the order the series reader stacks them (along the normal of the orientation). */
  slices: { sopClassUid: string; sopInstanceUid: string; position: number[] }[];
}

const COPIED = {
  x00100010: 'PN',
  x00100020: 'LO',
  x00100030: 'DA',
  x00100040: 'CS',
  x00080020: 'DA',
  x00080030: 'TM',
  x00080050: 'SH',
  x00080090: 'PN',
  x00200010: 'SH',
} as const;

/** Reads the headers of the DICOM images in `dir` (one series) in the series reader's slice order. */
export async function readSeriesReference(dir: string): Promise<SeriesReference> {
  const files = (await fs.promises.readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(dir, e.name))
    .sort();
  const found: { file: string; ds: DataSet }[] = [];
  for (const file of files) {
    const bytes = new Uint8Array(await fs.promises.readFile(file));
    if (bytes.length < 132 || Buffer.from(bytes.subarray(128, 132)).toString('latin1') !== 'DICM') continue;
    const ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
    if (ds.string('x00080018') && floats(ds, 'x00200032').length === 3) found.push({ file, ds });
  }
  if (!found.length) throw new ImageFormatError(dir, 'no DICOM images with a position found');
  const first = found[0]!.ds;
  const series = new Set(found.map((f) => f.ds.string('x0020000e')));
  if (series.size > 1)
    throw new ImageFormatError(dir, `the folder holds ${series.size} series; a segmentation refers to one`);
  const orientation = floats(first, 'x00200037');
  const slices = sortAlongNormal(
    found.map(({ ds }) => ({
      sopClassUid: ds.string('x00080016') ?? '',
      sopInstanceUid: ds.string('x00080018')!,
      position: floats(ds, 'x00200032'),
    })),
    orientation,
  );
  const copied: Record<string, string> = {};
  for (const tag of Object.keys(COPIED)) {
    const v = first.string(tag);
    if (v !== undefined) copied[tag] = v;
  }
  const spacing = floats(first, 'x00280030');
  return {
    studyInstanceUid: first.string('x0020000d') ?? newUid(),
    seriesInstanceUid: first.string('x0020000e') ?? '',
    frameOfReferenceUid: first.string('x00200052') ?? newUid(),
    copied,
    orientation,
    pixelSpacing: [spacing[0] ?? 1, spacing[1] ?? 1],
    rows: first.uint16('x00280010') ?? 0,
    cols: first.uint16('x00280011') ?? 0,
    slices,
  };
}

export interface Segment {
  /** The label value in the label map. */
  value: number;
  name: string;
}

export interface DicomSegOptions {
  seriesDescription?: string;
  algorithmName?: string;
  algorithmVersion?: string;
}

const code = (value: string, scheme: string, meaning: string): DicomDataset => [
  { tag: 0x00080100, vr: 'SH', value },
  { tag: 0x00080102, vr: 'SH', value: scheme },
  { tag: 0x00080104, vr: 'LO', value: meaning },
];

const tagNumber = (t: string) => parseInt(t.slice(1), 16);

/**
 * The Segmentation object for `labels` (a label map in the series' own grid: i = column, j = row,
 * k = slice in `ref.slices` order, as readDicomSeries returns it) as Part 10 bytes.
 */
export function encodeDicomSeg(
  labels: Volume,
  ref: SeriesReference,
  segments: Segment[],
  o: DicomSegOptions = {},
): Buffer {
  const [nx, ny, nz] = labels.shape as [number, number, number];
  if (nx !== ref.cols || ny !== ref.rows || nz !== ref.slices.length) {
    throw new Error(
      `the label map (${nx}×${ny}×${nz}) does not match the series (${ref.cols}×${ref.rows}×${ref.slices.length})`,
    );
  }
  const plane = nx * ny;
  const frames: { segment: number; slice: number }[] = [];
  const masks: Uint8Array[] = [];
  segments.forEach((s, si) => {
    for (let k = 0; k < nz; k++) {
      const m = new Uint8Array(plane);
      let any = false;
      for (let p = 0; p < plane; p++) {
        if (Number(labels.data[k * plane + p]) === s.value) {
          m[p] = 1;
          any = true;
        }
      }
      if (any) {
        frames.push({ segment: si + 1, slice: k });
        masks.push(m);
      }
    }
  });
  // BitsAllocated 1: frames packed back to back, first pixel in the lowest bit
  const pixels = new Uint8Array(Math.ceil((frames.length * plane) / 8));
  masks.forEach((m, f) => {
    for (let p = 0; p < plane; p++) if (m[p]) pixels[(f * plane + p) >> 3]! |= 1 << ((f * plane + p) & 7);
  });
  const sopInstanceUid = newUid();
  const now = new Date();
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  const time = now.toISOString().slice(11, 19).replace(/:/g, '');
  const segmentSequence: DicomDataset[] = segments.map((s, i) => [
    { tag: 0x00620004, vr: 'US', value: i + 1 },
    { tag: 0x00620005, vr: 'LO', value: s.name.slice(0, 64) },
    { tag: 0x00620008, vr: 'CS', value: 'AUTOMATIC' },
    { tag: 0x00620009, vr: 'LO', value: o.algorithmName ?? 'medseg' },
    { tag: 0x00620003, vr: 'SQ', value: [code('91723000', 'SCT', 'Anatomical Structure')] },
    // the label's own name under a private coding scheme: medseg knows names, not SNOMED codes
    { tag: 0x0062000f, vr: 'SQ', value: [code(`L${s.value}`, '99MEDSEG', s.name.slice(0, 64))] },
  ]);
  const perFrame: DicomDataset[] = frames.map(({ segment, slice }) => {
    const src = ref.slices[slice]!;
    return [
      {
        tag: 0x00089124,
        vr: 'SQ',
        value: [
          [
            {
              tag: 0x00082112,
              vr: 'SQ',
              value: [
                [
                  { tag: 0x00081150, vr: 'UI', value: src.sopClassUid },
                  { tag: 0x00081155, vr: 'UI', value: src.sopInstanceUid },
                  {
                    tag: 0x0040a170,
                    vr: 'SQ',
                    value: [code('121322', 'DCM', 'Source image for image processing operation')],
                  },
                ],
              ],
            },
            { tag: 0x00089215, vr: 'SQ', value: [code('113076', 'DCM', 'Segmentation')] },
          ],
        ],
      },
      { tag: 0x00209111, vr: 'SQ', value: [[{ tag: 0x00209157, vr: 'UL', value: [segment, slice + 1] }]] },
      { tag: 0x00209113, vr: 'SQ', value: [[{ tag: 0x00200032, vr: 'DS', value: src.position }]] },
      { tag: 0x0062000a, vr: 'SQ', value: [[{ tag: 0x0062000b, vr: 'US', value: segment }]] },
    ];
  });
  const sliceStep = ref.slices.length > 1 ? distance(ref.slices[0]!.position, ref.slices[1]!.position) : 1;
  const dimensionOrganization = newUid();
  const ds: DicomDataset = [
    ...Object.entries(ref.copied).map(([t, v]) => ({
      tag: tagNumber(t),
      vr: COPIED[t as keyof typeof COPIED],
      value: v,
    })),
    { tag: 0x00080008, vr: 'CS', value: ['DERIVED', 'PRIMARY'] },
    { tag: 0x00080016, vr: 'UI', value: SEGMENTATION_STORAGE },
    { tag: 0x00080018, vr: 'UI', value: sopInstanceUid },
    { tag: 0x00080023, vr: 'DA', value: date },
    { tag: 0x00080033, vr: 'TM', value: time },
    { tag: 0x00080060, vr: 'CS', value: 'SEG' },
    { tag: 0x00080070, vr: 'LO', value: 'medseg' },
    { tag: 0x0008103e, vr: 'LO', value: o.seriesDescription ?? 'medseg segmentation' },
    {
      tag: 0x00081115,
      vr: 'SQ',
      value: [
        [
          {
            tag: 0x0008114a,
            vr: 'SQ',
            value: ref.slices.map((s) => [
              { tag: 0x00081150, vr: 'UI', value: s.sopClassUid },
              { tag: 0x00081155, vr: 'UI', value: s.sopInstanceUid },
            ]),
          },
          { tag: 0x0020000e, vr: 'UI', value: ref.seriesInstanceUid },
        ],
      ],
    },
    { tag: 0x00081090, vr: 'LO', value: 'medseg' },
    { tag: 0x00181020, vr: 'LO', value: o.algorithmVersion ?? '' },
    { tag: 0x0020000d, vr: 'UI', value: ref.studyInstanceUid },
    { tag: 0x0020000e, vr: 'UI', value: newUid() },
    { tag: 0x00200011, vr: 'IS', value: 300 },
    { tag: 0x00200013, vr: 'IS', value: 1 },
    { tag: 0x00200052, vr: 'UI', value: ref.frameOfReferenceUid },
    { tag: 0x00201040, vr: 'LO', value: '' },
    {
      tag: 0x00209221,
      vr: 'SQ',
      value: [[{ tag: 0x00209164, vr: 'UI', value: dimensionOrganization }]],
    },
    {
      tag: 0x00209222,
      vr: 'SQ',
      value: [
        [
          { tag: 0x00209164, vr: 'UI', value: dimensionOrganization },
          { tag: 0x00209165, vr: 'AT', value: 0x0062000b },
          { tag: 0x00209167, vr: 'AT', value: 0x0062000a },
        ],
        [
          { tag: 0x00209164, vr: 'UI', value: dimensionOrganization },
          { tag: 0x00209165, vr: 'AT', value: 0x00200032 },
          { tag: 0x00209167, vr: 'AT', value: 0x00209113 },
        ],
      ],
    },
    { tag: 0x00280002, vr: 'US', value: 1 },
    { tag: 0x00280004, vr: 'CS', value: 'MONOCHROME2' },
    { tag: 0x00280008, vr: 'IS', value: frames.length },
    { tag: 0x00280010, vr: 'US', value: ny },
    { tag: 0x00280011, vr: 'US', value: nx },
    { tag: 0x00280100, vr: 'US', value: 1 },
    { tag: 0x00280101, vr: 'US', value: 1 },
    { tag: 0x00280102, vr: 'US', value: 0 },
    { tag: 0x00280103, vr: 'US', value: 0 },
    { tag: 0x00620001, vr: 'CS', value: 'BINARY' },
    { tag: 0x00620002, vr: 'SQ', value: segmentSequence },
    { tag: 0x00700080, vr: 'CS', value: 'SEGMENTATION' },
    { tag: 0x00700081, vr: 'LO', value: 'medseg' },
    { tag: 0x00700084, vr: 'PN', value: 'medseg' },
    {
      tag: 0x52009229,
      vr: 'SQ',
      value: [
        [
          { tag: 0x00209116, vr: 'SQ', value: [[{ tag: 0x00200037, vr: 'DS', value: ref.orientation }]] },
          {
            tag: 0x00289110,
            vr: 'SQ',
            value: [
              [
                { tag: 0x00180050, vr: 'DS', value: sliceStep },
                { tag: 0x00180088, vr: 'DS', value: sliceStep },
                { tag: 0x00280030, vr: 'DS', value: ref.pixelSpacing },
              ],
            ],
          },
        ],
      ],
    },
    { tag: 0x52009230, vr: 'SQ', value: perFrame },
    { tag: 0x7fe00010, vr: 'OB', value: pixels },
  ];
  return encodePart10(SEGMENTATION_STORAGE, sopInstanceUid, ds);
}

function distance(a: number[], b: number[]): number {
  return Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
}

/** Writes the Segmentation object of `labels` over the series in `seriesDir` to `file` (atomically). */
export async function writeDicomSeg(
  file: string,
  labels: Volume,
  seriesDir: string,
  segments: Segment[],
  o: DicomSegOptions = {},
): Promise<void> {
  const ref = await readSeriesReference(seriesDir);
  await writeFileAtomic(file, encodeDicomSeg(labels, ref, segments, o));
}
