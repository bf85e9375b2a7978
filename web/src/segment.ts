// The in-browser segmentation page (segment.html): the user drops or picks a NIfTI image and an
// exported model's files (export.json and its ONNX networks); onnxruntime-web runs medseg's own
// pipeline on them in the page (src/deploy/pipeline.ts: preprocessing, Gaussian sliding window,
// ensembling, argmax, back to the image's grid), Niivue shows the label map over the image, and the
// user can save it as NIfTI. Memory is estimated before each large allocation (segment/memory.ts);
// bad input (not NIfTI, another channel count, a truncated ONNX file) gets one message in the page.
// Tests read window.medsegSegment to know when a run has ended (test/web/segment.test.ts).
import { Niivue, SLICE_TYPE } from '@niivue/niivue';
import { checkManifest } from '../../src/export/manifestCheck';
import type { ExportManifest } from '../../src/export/manifest';
import type { LoadedConfiguration } from '../../src/deploy/pipeline';
import type { Volume } from '../../src/io/volume';
import { numel } from '../../src/deploy/arrays';
import { labelColor } from '../../src/web/palette';
import { labelColormap } from './colormap';
import { niftiBlob, readNiftiFile, readNiftiLayout } from './segment/niftiFile';
import {
  DEFAULT_BUDGET_BYTES,
  neededConfigurations,
  pipelineBytes,
  readingBytes,
  sessionBytes,
  tooLarge,
} from './segment/memory';
import { WebNetwork, preferredBackend, wasmThreads, type Backend } from './segment/ortNetwork';
import { channelsOf, nonzeroBoxOfSource, segmentVolume } from './segment/segmentVolume';

interface SegmentState {
  state: 'idle' | 'running' | 'done' | 'error';
  error?: string;
  backend?: Backend;
  /** WebAssembly threads (1 unless the page is cross-origin isolated). */
  threads?: number;
  backendWhy?: string;
  seconds?: number;
  /** Of which the pipeline itself (preprocessing, sliding window, back to the image's grid). */
  segmentSeconds?: number;
  /** Voxels per label value of the result. */
  counts?: Record<string, number>;
}
declare global {
  interface Window {
    medsegSegment: SegmentState;
  }
}
window.medsegSegment = { state: 'idle' };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string, isError = false) => {
  const el = $('status');
  el.textContent = s;
  el.className = isError ? 'error' : '';
};
const params = new URLSearchParams(location.search);
const budget = params.has('budgetMB') ? Number(params.get('budgetMB')) * 1024 ** 2 : DEFAULT_BUDGET_BYTES;

/** What the user gave: the image, export.json, the ONNX files by name. */
interface Dropped {
  image?: File;
  manifest?: File;
  onnx: Map<string, File>;
}
let dropped: Dropped = { onnx: new Map() };
let result: { labels: Volume; name: string } | undefined;
let nv: Niivue | undefined;

const baseName = (p: string) => p.split(/[\\/]/).pop()!;

function classify(files: File[]): Dropped {
  const d: Dropped = { image: dropped.image, manifest: dropped.manifest, onnx: new Map(dropped.onnx) };
  for (const f of files) {
    if (f.name.toLowerCase().endsWith('.onnx')) d.onnx.set(f.name, f);
    else if (f.name.toLowerCase().endsWith('.json')) d.manifest = f;
    else d.image = f; // anything else is taken as the image: the reader says if it is not NIfTI
  }
  return d;
}

function showDropped(): void {
  const items = [
    dropped.image ? `image: ${dropped.image.name}` : 'image: –',
    dropped.manifest ? `export: ${dropped.manifest.name}` : 'export.json: –',
    ...[...dropped.onnx.keys()].map((n) => `network: ${n}`),
  ];
  $('dropped').replaceChildren(
    ...items.map((t) => {
      const li = document.createElement('li');
      li.textContent = t;
      return li;
    }),
  );
  $<HTMLButtonElement>('run').disabled = !(dropped.image && dropped.manifest && dropped.onnx.size);
}

async function readManifestFile(f: File, onnx: Map<string, File>): Promise<ExportManifest> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await f.text());
  } catch (e) {
    throw new Error(`${f.name}: not valid JSON (${(e as Error).message})`);
  }
  return checkManifest(parsed, f.name, (rel) =>
    onnx.has(baseName(rel)) ? null : `${baseName(rel)} (drop it with export.json)`,
  );
}

/** Opens every needed network on `backend`; on failure releases what was opened. */
async function openNetworks(
  m: ExportManifest,
  backend: Backend,
  onnx: Map<string, File>,
): Promise<Map<string, LoadedConfiguration & { nets: WebNetwork[] }>> {
  const out = new Map<string, LoadedConfiguration & { nets: WebNetwork[] }>();
  try {
    for (const config of neededConfigurations(m)) {
      const entry = { config, nets: [] as WebNetwork[] };
      out.set(config.name, entry);
      for (const f of config.folds) {
        const file = onnx.get(baseName(f.file))!;
        const bytes = new Uint8Array(await file.arrayBuffer());
        entry.nets.push(
          await WebNetwork.load(
            bytes,
            file.name,
            { inputChannels: config.inputChannels, numClasses: config.numClasses, patch: config.patch },
            backend,
          ),
        );
      }
    }
  } catch (e) {
    await releaseAll(out);
    throw e;
  }
  return out;
}

async function releaseAll(nets: Map<string, { nets: WebNetwork[] }>): Promise<void> {
  for (const c of nets.values()) for (const n of c.nets) await n.release();
}

async function show(image: File, labels: Volume, m: ExportManifest): Promise<void> {
  if (!nv) {
    nv = new Niivue({ backColor: [0, 0, 0, 1], crosshairWidth: 0, show3Dcrosshair: false });
    await nv.attachToCanvas($<HTMLCanvasElement>('gl'));
  }
  nv.setSliceType(SLICE_TYPE.AXIAL);
  const names = m.labelNames ?? {};
  const legend = m.labelValues
    .slice(1)
    .map((value) => ({ value, name: names[String(value)] ?? `label ${value}`, color: labelColor(value) }));
  const seg = URL.createObjectURL(await niftiBlob(labels, 'segmentation.nii', false));
  const img = URL.createObjectURL(image);
  try {
    await nv.loadVolumes([
      { url: img, name: image.name, colormap: 'gray' },
      { url: seg, name: 'segmentation.nii', opacity: 0.6 },
    ]);
  } finally {
    URL.revokeObjectURL(img);
    URL.revokeObjectURL(seg);
  }
  nv.volumes[1]!.setColormapLabel(labelColormap(legend, 0));
  nv.updateGLVolume();
  $('legend').innerHTML = legend
    .map((l) => `<li><span style="background:rgb(${l.color.join(',')})"></span>${l.name}</li>`)
    .join('');
}

async function run(): Promise<void> {
  const { image, manifest } = dropped;
  if (!image || !manifest || !dropped.onnx.size) return;
  window.medsegSegment = { state: 'running' };
  $<HTMLButtonElement>('save').disabled = true;
  result = undefined;
  const t0 = performance.now();
  status(`reading ${manifest.name}…`);
  const m = await readManifestFile(manifest, dropped.onnx);
  const needed = neededConfigurations(m);
  const crop = needed.find((c) => c.cascade?.variant === 'crop');
  if (crop)
    throw new Error(
      `${manifest.name}: ${crop.name} is the crop variant of the cascade, which this page does not run (medseg predict -m EXPORT_DIR does)`,
    );
  status(`reading ${image.name}…`);
  const layout = await readNiftiLayout(image);
  if (layout.datatype === 'rgb24')
    throw new Error(`${image.name}: an RGB image; the model takes intensities`);
  const channels = channelsOf(layout.shape);
  if (channels !== m.channelNames.length)
    throw new Error(
      `${image.name}: ${channels} channel(s), but the model takes ${m.channelNames.length} (${m.channelNames.join(', ')})` +
        (m.channelNames.length > 1 ? ': give one 4D NIfTI with the channels in its 4th dimension' : ''),
    );
  const dims = layout.shape.slice(0, 3).join('×');
  const reading = tooLarge(
    `${image.name} (${dims})`,
    readingBytes(layout.dataBytes, layout.dataOffset),
    budget,
  );
  if (reading) throw new Error(reading);
  const vol = await readNiftiFile(image, layout);
  const box = nonzeroBoxOfSource(vol);
  const modelBytes = needed
    .flatMap((c) => c.folds)
    .reduce((s, f) => s + dropped.onnx.get(baseName(f.file))!.size, 0);
  const need =
    pipelineBytes(
      {
        shape: [layout.shape[2]!, layout.shape[1]!, layout.shape[0]!],
        crop: box.map(([a, b]) => b - a),
        spacing: [vol.spacing[2], vol.spacing[1], vol.spacing[0]],
        channels,
        sourceBytes: layout.dataBytes,
      },
      m,
    ) + sessionBytes(modelBytes);
  const big = tooLarge(
    `${image.name} (${dims}, non-zero crop ${box
      .map(([a, b]) => b - a)
      .reverse()
      .join('×')})`,
    need,
    budget,
  );
  if (big) throw new Error(big);

  let { backend, why } = await preferredBackend(m);
  let nets: Map<string, LoadedConfiguration & { nets: WebNetwork[] }>;
  status(`opening the networks (${backend})…`);
  try {
    nets = await openNetworks(m, backend, dropped.onnx);
  } catch (e) {
    if (backend !== 'webgpu') throw e;
    why = `WebGPU failed (${(e as Error).message}); WebAssembly instead`;
    backend = 'wasm';
    nets = await openNetworks(m, backend, dropped.onnx);
  }
  const threads = wasmThreads();
  $('backend').textContent =
    backend === 'webgpu'
      ? `ran on: WebGPU (${why})`
      : `ran on: WebAssembly, ${threads} thread${threads > 1 ? 's' : ''} (${why})`;
  let labels: Volume;
  const t1 = performance.now();
  try {
    labels = await segmentVolume(vol, box, m, nets, {
      mirror: $<HTMLInputElement>('mirror').checked,
      progress: (done, total) => status(`segmenting ${image.name}: window ${done} of ${total}`),
    });
  } finally {
    await releaseAll(nets);
  }
  const segmentSeconds = (performance.now() - t1) / 1000;
  const counts: Record<string, number> = {};
  for (const v of labels.data as Uint8Array) counts[v] = (counts[v] ?? 0) + 1;
  result = { labels, name: image.name.replace(/\.nii(\.gz)?$/i, '') + '_seg.nii.gz' };
  await show(image, labels, m);
  const seconds = (performance.now() - t0) / 1000;
  $('caption').textContent = `${image.name}: ${m.members.join(' + ')} (${m.dataset})`;
  $('time').textContent =
    `segmented in ${seconds.toFixed(1)} s: the pipeline ${segmentSeconds.toFixed(1)} s, the rest reading, ` +
    `checks, opening the networks and drawing (${numel(labels.shape)} voxels)`;
  // the post-processing needs the engine's connected components: said, not silently skipped
  const post = m.postprocessing ? " (without the export's post-processing: medseg predict applies it)" : '';
  status(`done: ${image.name} in ${seconds.toFixed(1)} s on ${backend}${post}`);
  $<HTMLButtonElement>('save').disabled = false;
  window.medsegSegment = {
    state: 'done',
    backend,
    threads,
    backendWhy: why,
    seconds,
    segmentSeconds,
    counts,
  };
}

function fail(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  status(msg, true);
  window.medsegSegment = { state: 'error', error: msg };
}

const start = () => void run().catch(fail);

async function save(): Promise<void> {
  if (!result) return;
  const blob = await niftiBlob(result.labels, result.name, true);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = result.name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

function take(files: File[]): void {
  dropped = classify(files);
  showDropped();
  if (dropped.image && dropped.manifest && dropped.onnx.size) start();
}

const input = $<HTMLInputElement>('files');
input.addEventListener('change', () => take([...(input.files ?? [])]));
const folder = $<HTMLInputElement>('folder');
folder.addEventListener('change', () => take([...(folder.files ?? [])]));

/** The files of dropped items, folders read recursively (an export folder dropped whole). */
async function droppedFiles(items: DataTransferItemList): Promise<File[]> {
  const out: File[] = [];
  const walk = async (e: FileSystemEntry): Promise<void> => {
    if (e.isFile) out.push(await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)));
    else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      // readEntries gives a directory in chunks: read until it gives none
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const x of batch) await walk(x);
      }
    }
  };
  const entries = [...items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => !!e);
  for (const e of entries) await walk(e);
  return out;
}
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const dt = e.dataTransfer;
  if (!dt) return;
  const plain = [...dt.files]; // read now: the drop's lists empty once the handler returns
  void droppedFiles(dt.items)
    .then((files) => take(files.length ? files : plain))
    .catch(fail);
});
// ?mirror=1 starts with mirroring on (a link can ask for test-time augmentation)
$<HTMLInputElement>('mirror').checked = params.get('mirror') === '1';
$('run').addEventListener('click', start);
$('save').addEventListener('click', () => void save().catch(fail));
showDropped();
