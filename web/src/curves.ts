// Training curves as inline SVG (loss, pseudo-Dice per label and its EMA, learning rate, epoch time),
// the panels of nnU-Net's progress plot.
import type { EpochRow } from './types';

const COLORS = ['#36c', '#c39', '#e80', '#0aa', '#960', '#63c', '#3a3', '#c33'];
const NS = 'http://www.w3.org/2000/svg';

interface Series {
  name: string;
  values: number[];
  color: string;
}

function chart(title: string, series: Series[]): HTMLElement {
  const fig = document.createElement('figure');
  const W = 360;
  const H = 200;
  const pad = 36;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  svg.style.background = '#fafafa';
  if (all.length) {
    const lo = Math.min(0, ...all);
    const hi = Math.max(...all, lo + 1e-9);
    const n = Math.max(...series.map((s) => s.values.length));
    const x = (i: number) => pad + (n > 1 ? (i / (n - 1)) * (W - 2 * pad) : 0);
    const y = (v: number) => H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad);
    const digits = hi < 0.1 ? 5 : 2;
    svg.innerHTML =
      `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/>` +
      `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#999"/>` +
      `<text x="2" y="${y(hi) + 4}" font-size="10">${hi.toFixed(digits)}</text>` +
      `<text x="2" y="${y(lo) + 4}" font-size="10">${lo.toFixed(digits)}</text>` +
      `<text x="${W / 2}" y="${H - 6}" font-size="11" text-anchor="middle">epoch</text>`;
    series.forEach((s, k) => {
      const line = document.createElementNS(NS, 'polyline');
      line.setAttribute('fill', 'none');
      line.setAttribute('stroke', s.color);
      line.setAttribute('stroke-width', '2');
      line.setAttribute(
        'points',
        s.values
          .map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : ''))
          .filter(Boolean)
          .join(' '),
      );
      svg.appendChild(line);
      const t = document.createElementNS(NS, 'text');
      t.setAttribute('x', String(pad + 70 * k));
      t.setAttribute('y', '14');
      t.setAttribute('font-size', '11');
      t.setAttribute('fill', s.color);
      t.textContent = s.name;
      svg.appendChild(t);
    });
  }
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.append(svg, cap);
  return fig;
}

export function trainingCharts(rows: EpochRow[], labelNames: string[]): HTMLElement {
  const div = document.createElement('div');
  div.className = 'row';
  const col = (f: (r: EpochRow) => number | undefined) => rows.map((r) => f(r) ?? NaN);
  const nLabels = Math.max(0, ...rows.map((r) => r.val_dice?.length ?? 0));
  const perLabel: Series[] =
    nLabels > 1
      ? Array.from({ length: nLabels }, (_, i) => ({
          name: labelNames[i] ?? `label ${i + 1}`,
          values: col((r) => r.val_dice?.[i]),
          color: COLORS[i % COLORS.length]!,
        }))
      : [];
  div.append(
    chart('training loss', [{ name: 'train loss', values: col((r) => r.train_loss), color: '#c33' }]),
    chart('validation pseudo-Dice', [
      ...perLabel,
      { name: 'mean', values: col((r) => r.val_mean_dice), color: '#222' },
      { name: 'EMA', values: col((r) => r.ema_dice), color: '#393' },
    ]),
    chart('learning rate', [{ name: 'lr', values: col((r) => r.lr), color: '#777' }]),
    chart('epoch time (s)', [{ name: 'seconds', values: col((r) => r.seconds), color: '#a60' }]),
  );
  return div;
}
