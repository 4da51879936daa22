// Dependency-free SVG charts: each panel is a set of rows, each row one sample set drawn as dots over a
// box (quartiles) with a median tick and min-max whiskers, on a shared linear axis from zero.
import { minMax, quantile } from './stats.js';

export interface ChartRow {
  readonly label: string;
  readonly values: readonly number[];
  readonly color: string;
}

export interface ChartPanel {
  readonly title: string;
  readonly unit: string;
  readonly rows: readonly ChartRow[];
}

export const COLORS = { swimring: '#2b6cb0', serf: '#c05621' } as const;

const WIDTH = 780;
const LABEL_W = 190;
const RIGHT_PAD = 30;
const ROW_H = 28;
const PANEL_HEAD = 34;
const AXIS_H = 30;

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * mag >= max) return step * mag;
  return 10 * mag;
}

function fmtTick(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}

function panelSvg(panel: ChartPanel, top: number): { body: string; height: number } {
  const finite = panel.rows.flatMap((r) => r.values.filter(Number.isFinite));
  const xMax = niceMax(finite.length ? Math.max(...finite) * 1.05 : 1);
  const plotW = WIDTH - LABEL_W - RIGHT_PAD;
  const x = (v: number): number => LABEL_W + (Math.max(0, v) / xMax) * plotW;
  const parts: string[] = [];
  parts.push(`<text x="10" y="${top + 20}" font-size="14" font-weight="bold">${esc(panel.title)}</text>`);
  const plotTop = top + PANEL_HEAD;
  const plotBottom = plotTop + panel.rows.length * ROW_H;
  for (let t = 0; t <= 5; t++) {
    const v = (xMax * t) / 5;
    parts.push(`<line x1="${x(v)}" y1="${plotTop}" x2="${x(v)}" y2="${plotBottom}" stroke="#ddd"/>`);
    parts.push(`<text x="${x(v)}" y="${plotBottom + 16}" font-size="11" text-anchor="middle">${fmtTick(v)}</text>`);
  }
  parts.push(`<text x="${LABEL_W + plotW / 2}" y="${plotBottom + 28}" font-size="11" text-anchor="middle">${esc(panel.unit)}</text>`);
  panel.rows.forEach((row, i) => {
    const cy = plotTop + i * ROW_H + ROW_H / 2;
    parts.push(`<text x="${LABEL_W - 8}" y="${cy + 4}" font-size="12" text-anchor="end">${esc(row.label)}</text>`);
    const vals = row.values.filter(Number.isFinite);
    if (vals.length === 0) {
      parts.push(`<text x="${LABEL_W + 4}" y="${cy + 4}" font-size="11" fill="#888">no data</text>`);
      return;
    }
    const [lo, hi] = minMax(vals);
    const q1 = quantile(vals, 0.25);
    const q3 = quantile(vals, 0.75);
    const med = quantile(vals, 0.5);
    parts.push(`<line x1="${x(lo)}" y1="${cy}" x2="${x(hi)}" y2="${cy}" stroke="${row.color}" stroke-width="1"/>`);
    parts.push(`<rect x="${x(q1)}" y="${cy - 8}" width="${Math.max(1, x(q3) - x(q1))}" height="16" fill="${row.color}" fill-opacity="0.18" stroke="${row.color}"/>`);
    parts.push(`<line x1="${x(med)}" y1="${cy - 10}" x2="${x(med)}" y2="${cy + 10}" stroke="${row.color}" stroke-width="3"/>`);
    vals.forEach((v, k) => {
      const jitter = ((k * 37) % 11) - 5;
      parts.push(`<circle cx="${x(v).toFixed(1)}" cy="${(cy + jitter).toFixed(1)}" r="2.2" fill="${row.color}" fill-opacity="0.65"/>`);
    });
  });
  return { body: parts.join('\n'), height: PANEL_HEAD + panel.rows.length * ROW_H + AXIS_H + 10 };
}

export function chartSvg(title: string, subtitle: string, panels: readonly ChartPanel[]): string {
  let top = 50;
  const bodies: string[] = [];
  for (const p of panels) {
    const { body, height } = panelSvg(p, top);
    bodies.push(body);
    top += height;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top + 10}" viewBox="0 0 ${WIDTH} ${top + 10}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="40" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    ...bodies,
    '</svg>',
    '',
  ].join('\n');
}
