// The viewer page of `medseg serve`: the model's cases, each shown in Niivue as the image with the
// reference and the prediction over it in per-label colours, an opacity slider, the case's metrics
// from every recorded evaluation, the training curves, and stage 1 of a cascade beside stage 2.
// Tests read window.medsegViewer to know when a case has been drawn (test/web/browser.test.ts).
import { Niivue, SLICE_TYPE, type NVImage } from '@niivue/niivue';
import { trainingCharts } from './curves';
import { labelColormap } from './colormap';
import type { Case, Catalog, Label, Prediction } from './types';

interface ViewerState {
  ready: boolean;
  error?: string;
  caseId?: string;
  /** The axial tile of the main canvas, in device pixels: [left, top, width, height]. */
  tile?: number[];
  canvas?: { width: number; height: number };
}
declare global {
  interface Window {
    medsegViewer: ViewerState;
  }
}
window.medsegViewer = { ready: false };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string, isError = false) => {
  const el = $('status');
  el.textContent = s;
  el.className = isError ? 'error' : '';
};

function makeNiivue(canvas: HTMLCanvasElement) {
  // no crosshair (its default red would read as a prediction), black background
  const nv = new Niivue({
    backColor: [0, 0, 0, 1],
    crosshairWidth: 0,
    crosshairColor: [0, 0, 0, 0],
    show3Dcrosshair: false,
  });
  return nv.attachToCanvas(canvas).then(() => {
    nv.setSliceType(SLICE_TYPE.AXIAL);
    return nv;
  });
}

const fileName = (url: string) => decodeURIComponent(url.split('/').pop() ?? 'volume.nii.gz');

/** The native z index with the most foreground voxels of a label volume. */
function busiestSlice(vol: NVImage): [number, number, number] {
  const [, nx, ny, nz] = vol.dims ?? vol.hdr!.dims;
  const img = vol.img!;
  let best = Math.floor(nz! / 2);
  let bestN = -1;
  let cx = nx! / 2;
  let cy = ny! / 2;
  for (let z = 0; z < nz!; z++) {
    let n = 0;
    let sx = 0;
    let sy = 0;
    for (let y = 0; y < ny!; y++)
      for (let x = 0; x < nx!; x++)
        if (Number(img[(z * ny! + y) * nx! + x]) > 0) {
          n++;
          sx += x;
          sy += y;
        }
    if (n > bestN) {
      bestN = n;
      best = z;
      if (n) [cx, cy] = [sx / n, sy / n];
    }
  }
  return [cx, cy, best];
}

interface Layers {
  image?: string;
  reference?: string;
  prediction?: string;
}

async function show(nv: Niivue, layers: Layers, labels: Label[], opacity: number): Promise<void> {
  const list = [];
  if (layers.image) list.push({ url: layers.image, name: fileName(layers.image), colormap: 'gray' });
  if (layers.reference) list.push({ url: layers.reference, name: fileName(layers.reference), opacity });
  if (layers.prediction) list.push({ url: layers.prediction, name: fileName(layers.prediction), opacity });
  await nv.loadVolumes(list);
  let i = layers.image ? 1 : 0;
  if (layers.reference) nv.volumes[i++]!.setColormapLabel(labelColormap(labels, 0.55));
  if (layers.prediction) nv.volumes[i]!.setColormapLabel(labelColormap(labels, 0));
  const focus = nv.volumes[nv.volumes.length - 1]!;
  if (layers.prediction || layers.reference)
    nv.scene.crosshairPos = nv.vox2frac(busiestSlice(focus), nv.volumes.length - 1);
  nv.updateGLVolume();
}

function overlayIndices(layers: Layers): { ref?: number; pred?: number } {
  let i = layers.image ? 1 : 0;
  const out: { ref?: number; pred?: number } = {};
  if (layers.reference) out.ref = i++;
  if (layers.prediction) out.pred = i;
  return out;
}

function metricsTable(c: Case, labels: Label[]): HTMLElement {
  const div = document.createElement('div');
  const names = Object.keys(c.metrics);
  if (!names.length) {
    div.textContent = 'No evaluation of this case recorded (medseg evaluate ... --model MODEL).';
    return div;
  }
  const labelName = (k: string) => labels.find((l) => String(l.value) === k)?.name ?? k;
  const fmt = (v: number | null | undefined) => (v === null ? '∞' : v === undefined ? '–' : v.toFixed(3));
  const rows: string[] = [
    '<tr><th>evaluation</th><th>label</th><th>Dice</th><th>HD95 (mm)</th><th>NSD</th></tr>',
  ];
  for (const n of names)
    for (const [k, m] of Object.entries(c.metrics[n]!))
      rows.push(
        `<tr><td>${n}</td><td>${labelName(k)}</td><td>${fmt(m.dice)}</td><td>${fmt(m.hd95)}</td><td>${fmt(m.nsd)}</td></tr>`,
      );
  const t = document.createElement('table');
  t.innerHTML = rows.join('');
  div.appendChild(t);
  return div;
}

async function main() {
  const res = await fetch('./api/catalog.json');
  if (!res.ok) throw new Error(`catalog: ${res.status} ${await res.text()}`);
  const cat = (await res.json()) as Catalog;
  document.title = `medseg viewer: ${cat.name}`;
  $('title').textContent = `medseg viewer: ${cat.name}`;
  $('legend').innerHTML = cat.labels
    .map((l) => `<li><span style="background:rgb(${l.color.join(',')})"></span>${l.name}</li>`)
    .join('');
  const nv = await makeNiivue($<HTMLCanvasElement>('gl'));
  let nv1: Niivue | undefined;
  const opacity = $<HTMLInputElement>('opacity');
  const showRef = $<HTMLInputElement>('showRef');
  const showPred = $<HTMLInputElement>('showPred');
  const select = $<HTMLSelectElement>('prediction');
  let current: { c: Case; layers: Layers } | undefined;

  const applyOverlays = () => {
    if (!current) return;
    const { ref, pred } = overlayIndices(current.layers);
    const o = Number(opacity.value);
    if (ref !== undefined) nv.setOpacity(ref, showRef.checked ? o : 0);
    if (pred !== undefined) nv.setOpacity(pred, showPred.checked ? o : 0);
    if (nv1 && nv1.volumes.length > 1) nv1.setOpacity(nv1.volumes.length - 1, showPred.checked ? o : 0);
  };
  for (const el of [opacity, showRef, showPred]) el.addEventListener('input', applyOverlays);

  const showCase = async (c: Case, p: Prediction | undefined) => {
    window.medsegViewer.ready = false;
    status(`loading ${c.id}…`);
    for (const b of document.querySelectorAll('#cases button'))
      b.classList.toggle('current', b.textContent === c.id);
    const layers: Layers = {};
    if (c.image) layers.image = c.image;
    if (c.reference) layers.reference = c.reference;
    if (p) layers.prediction = p.url;
    current = { c, layers };
    try {
      await show(nv, layers, cat.labels, Number(opacity.value));
    } catch (e) {
      throw new Error(`case ${c.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
    $('mainCaption').textContent = p ? `${c.id}: ${p.config} fold ${p.fold}` : c.id;
    // a cascade's stage 2 gets its stage 1 beside it
    const stage1 =
      cat.cascade && p?.config === cat.cascade.stage2
        ? c.predictions.find((q) => q.config === cat.cascade!.stage1 && q.fold === p.fold)
        : undefined;
    $('stage1Figure').hidden = !stage1;
    if (stage1) {
      nv1 ??= await makeNiivue($<HTMLCanvasElement>('gl1'));
      await show(
        nv1,
        { ...(c.image ? { image: c.image } : {}), prediction: stage1.url },
        cat.labels,
        Number(opacity.value),
      );
    }
    applyOverlays();
    $('metrics').replaceChildren(metricsTable(c, cat.labels));
    // Niivue sizes its canvas to its box on resize events: do it now so the tile below is final
    nv.resizeListener();
    nv.drawScene();
    const tile = nv.screenSlices[0]?.leftTopWidthHeight;
    const canvas = $<HTMLCanvasElement>('gl');
    window.medsegViewer = {
      ready: true,
      caseId: c.id,
      canvas: { width: canvas.width, height: canvas.height },
      ...(tile ? { tile: [...tile] } : {}),
    };
    status(`${c.id}${c.image ? '' : ' (no image: serve with --data DATASET_DIR)'}`);
  };

  const selectCase = (c: Case) => {
    select.innerHTML = c.predictions
      .map((p, i) => `<option value="${i}">${p.config} fold ${p.fold}</option>`)
      .join('');
    select.onchange = () => void showCase(c, c.predictions[Number(select.value)]).catch(fail);
    return showCase(c, c.predictions[0]);
  };
  $('cases').replaceChildren(
    ...cat.cases.map((c) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.textContent = c.id;
      b.onclick = () => void selectCase(c).catch(fail);
      li.appendChild(b);
      return li;
    }),
  );
  const training = $('training');
  const names = cat.labels.map((l) => l.name);
  for (const t of cat.training) {
    const h = document.createElement('h2');
    h.textContent = `Training: ${t.config} fold ${t.fold} (${t.log.length} epochs)`;
    training.append(h, trainingCharts(t.log, names));
  }
  const first = new URLSearchParams(location.search).get('case');
  const start = cat.cases.find((c) => c.id === first) ?? cat.cases[0];
  if (start) await selectCase(start);
  else status('no cases: the model has no out-of-fold predictions (MODEL/<config>/fold_F/validation/) yet');
  if (!start) window.medsegViewer = { ready: true };
}

function fail(e: unknown) {
  const msg = e instanceof Error ? e.message : String(e);
  status(msg, true);
  window.medsegViewer = { ready: true, error: msg };
}

main().catch(fail);
