/**
 * Line charts as standalone SVG text, for the benchmark report: axes with ticks and labels, a grid,
 * one polyline (with point markers) per series, and a legend. Linear or logarithmic axes; linear
 * ticks are "nice numbers" (1, 2 or 5 × a power of ten; Heckbert, "Nice numbers for graph labels",
 * Graphics Gems, 1990). No dependency: the output is plain SVG 1.1 that browsers and GitHub render.
 */

export interface ChartSeries {
  name: string;
  /** [x, y] pairs; points that a log axis cannot show (≤ 0) or that are not finite are left out. */
  points: readonly (readonly [number, number])[];
  /** @default a colour of the palette, by position */
  color?: string;
  /** Drawn dashed (e.g. p99 beside a solid p50). @default false */
  dashed?: boolean;
  /** Left out of the legend (e.g. the dashed twin of a series already named). @default false */
  unlisted?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** @default false */
  xLog?: boolean;
  /** @default false */
  yLog?: boolean;
  /** Linear y axis from zero. @default true */
  yFromZero?: boolean;
  series: readonly ChartSeries[];
  /** Extra legend lines that explain a line style, e.g. solid = p50, dashed = p99. */
  notes?: readonly { label: string; dashed: boolean }[];
  /** @default 860 */
  width?: number;
  /** @default 460 */
  height?: number;
}

/** Tableau 10: distinct hues that stay apart for colour-blind readers. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
] as const;

/** Series with more points than this are drawn without point markers. */
const MAX_MARKERS = 40;

const MARGIN = { left: 72, right: 250, top: 44, bottom: 58 };

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A tick label: 1024 → "1024", 15000 → "15k", 2e6 → "2M", 0.25 → "0.25". */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  const trim = (s: string) => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(2))}M`;
  if (a >= 1e4 || (a >= 1e3 && !Number.isInteger(v))) return `${trim((v / 1e3).toFixed(2))}k`;
  if (Number.isInteger(v)) return String(v);
  if (a === 0) return '0';
  if (a >= 1) return trim(v.toFixed(2));
  return trim(v.toPrecision(2));
}

/** The nice number near `x`: 1, 2, 5 or 10 × a power of ten (rounded, or the next above). */
function nice(x: number, round: boolean): number {
  const exp = Math.floor(Math.log10(x));
  const f = x / 10 ** exp;
  let n: number;
  if (round) n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return n * 10 ** exp;
}

/** About `count` nice ticks covering [lo, hi]; the first and last tick bound the axis. */
export function linearTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) hi = lo === 0 ? 1 : lo + Math.abs(lo);
  const step = nice(nice(hi - lo, false) / (count - 1), true);
  const first = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const v = Number((first + i * step).toPrecision(12));
    ticks.push(v);
    if (v >= hi) return ticks;
  }
}

/** Decades covering [lo, hi] (lo > 0), with 2 and 5 between them when the range spans few decades. */
export function logTicks(lo: number, hi: number): number[] {
  const from = Math.floor(Math.log10(lo));
  const to = Math.max(from + 1, Math.ceil(Math.log10(hi)));
  const between = to - from <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = from; e <= to; e++) {
    for (const m of between) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (e === to && m > 1) break;
      ticks.push(v);
    }
  }
  return ticks;
}

interface Axis {
  ticks: number[];
  /** Maps a value to [0, 1] along the axis. */
  unit(v: number): number;
}

function axis(values: number[], log: boolean, fromZero: boolean, exactTicks: boolean): Axis {
  if (log) {
    const pos = values.filter((v) => v > 0);
    const lo = pos.length === 0 ? 1 : Math.min(...pos);
    const hi = pos.length === 0 ? 10 : Math.max(...pos);
    // A handful of distinct values (a concurrency ladder) are their own best ticks.
    const distinct = [...new Set(pos)].sort((a, b) => a - b);
    const ticks = exactTicks && distinct.length >= 2 && distinct.length <= 10 ? distinct : logTicks(lo, hi);
    const a = Math.log10(ticks[0] as number);
    const b = Math.log10(ticks.at(-1) as number);
    const span = b - a || 1;
    return { ticks, unit: (v) => (Math.log10(v) - a) / span };
  }
  const finite = values.filter(Number.isFinite);
  let lo = finite.length === 0 ? 0 : Math.min(...finite);
  const hi = finite.length === 0 ? 1 : Math.max(...finite);
  if (fromZero) lo = Math.min(0, lo);
  const ticks = linearTicks(lo, hi);
  const a = ticks[0] as number;
  const span = (ticks.at(-1) as number) - a || 1;
  return { ticks, unit: (v) => (v - a) / span };
}

const f1 = (n: number) => n.toFixed(1);

/** The chart as an SVG document. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 860;
  const height = o.height ?? 460;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const shown = (p: readonly [number, number]) =>
    Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!o.xLog || p[0] > 0) && (!o.yLog || p[1] > 0);
  const series = o.series.map((s) => ({ ...s, points: s.points.filter(shown) }));
  const all = series.flatMap((s) => s.points);
  const xa = axis(
    all.map((p) => p[0]),
    o.xLog === true,
    false,
    true,
  );
  const ya = axis(
    all.map((p) => p[1]),
    o.yLog === true,
    o.yFromZero ?? true,
    false,
  );
  const X = (v: number) => MARGIN.left + xa.unit(v) * plotW;
  const Y = (v: number) => MARGIN.top + (1 - ya.unit(v)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="15" font-weight="bold" fill="#222">${escapeXml(o.title)}</text>`,
  ];
  // Grid and ticks.
  for (const t of ya.ticks) {
    const y = f1(Y(t));
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${escapeXml(tickLabel(t))}</text>`,
    );
  }
  for (const t of xa.ticks) {
    const x = f1(X(t));
    out.push(
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#eeeeee"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle" fill="#444">${escapeXml(tickLabel(t))}</text>`,
    );
  }
  // Axes and their labels.
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${f1(MARGIN.left + plotW / 2)}" y="${height - 14}" text-anchor="middle" fill="#222">${escapeXml(o.xLabel)}${o.xLog ? ' (log scale)' : ''}</text>`,
    `<text transform="translate(18 ${f1(MARGIN.top + plotH / 2)}) rotate(-90)" text-anchor="middle" fill="#222">${escapeXml(o.yLabel)}${o.yLog ? ' (log scale)' : ''}</text>`,
  );
  // Series.
  let colour = 0;
  const legend: { label: string; color: string; dashed: boolean }[] = [];
  for (const s of series) {
    const color = s.color ?? (PALETTE[colour++ % PALETTE.length] as string);
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    const pts = s.points.map((p) => `${f1(X(p[0]))},${f1(Y(p[1]))}`).join(' ');
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts}"><title>${escapeXml(s.name)}</title></polyline>`,
    );
    // Markers show where the measurements are; on a dense series (a time line) they would only blur it.
    for (const p of s.points.length > MAX_MARKERS ? [] : s.points) {
      out.push(`<circle cx="${f1(X(p[0]))}" cy="${f1(Y(p[1]))}" r="2.5" fill="${color}"/>`);
    }
    if (s.unlisted !== true) legend.push({ label: s.name, color, dashed: s.dashed === true });
  }
  // Legend, right of the plot.
  const lx = MARGIN.left + plotW + 20;
  let ly = MARGIN.top + 6;
  const entry = (label: string, color: string, dashed: boolean): void => {
    const dash = dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 34}" y="${ly}" dominant-baseline="middle" fill="#222">${escapeXml(label)}</text>`,
    );
    ly += 20;
  };
  for (const l of legend) entry(l.label, l.color, l.dashed);
  if (o.notes !== undefined && o.notes.length > 0) ly += 8;
  for (const n of o.notes ?? []) entry(n.label, '#555', n.dashed);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
