/**
 * Charts of an evaluation report: pure functions from figures to standalone SVG documents (valid XML,
 * no scripts, no external references, no element ids, so several can be inlined in one HTML page).
 *
 * Every text is escaped with {@link escapeXml}; every number written into an attribute goes through
 * {@link svgNumber}, so NaN or Infinity never reach the markup: figures that are not finite are left out,
 * and a chart with nothing finite to draw says "no data". Colours are the Okabe-Ito palette
 * (distinguishable with the common colour-vision deficiencies); series that share a chart also differ
 * in dash or position and carry a text label, so nothing is told apart by colour alone. Every bar, point
 * and line has a `<title>` (hover text) with its exact figure.
 */
import {
  type Chart,
  type EvaluationReportView,
  type OracleFigures,
  type PersonalisationFigures,
  type SettingFigures,
  type UserFigure,
} from './report.js';

/** Okabe-Ito colours. */
export const PALETTE = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  green: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  grey: '#7F7F7F',
} as const;

const FONT_FAMILY =
  "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, 'DejaVu Sans', sans-serif";
const TEXT_COLOUR = '#1a1a1a';
const AXIS_COLOUR = '#444444';
const GRID_COLOUR = '#e3e3e3';
const WIDTH = 760;

// Characters that XML 1.0 does not allow at all (C0 controls but tab, newline and carriage return; lone
// surrogates; U+FFFE and U+FFFF): replaced, since no escape can carry them.
const XML_INVALID =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text made safe for XML and HTML, in element content and in quoted attributes alike: the five markup
 * characters become entities, and characters XML cannot carry at all become U+FFFD.
 */
export function escapeXml(text: unknown): string {
  return String(text)
    .replace(XML_INVALID, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A finite number, for the checks below. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A number for an attribute: two decimals at most, and 0 for anything not finite (never "NaN"). */
export function svgNumber(value: number): string {
  if (!Number.isFinite(value)) return '0';
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/**
 * A figure for people: `significant` digits, no trailing zeros, exponent notation only for very large or
 * very small magnitudes, and "n/a" for anything not finite.
 */
export function formatNumber(value: number | null | undefined, significant = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-4) return value.toExponential(significant - 1).replace('e+', 'e');
  if (magnitude >= 10 ** significant) return String(Math.round(value));
  const text = String(Number(value.toPrecision(significant)));
  return text === '-0' ? '0' : text;
}

/** Round (nice) ticks covering [low, high], and the domain they span; none for non-finite input. */
export function niceTicks(
  low: number,
  high: number,
  target = 5,
): { ticks: number[]; domain: [number, number] } {
  if (!Number.isFinite(low) || !Number.isFinite(high)) return { ticks: [], domain: [0, 1] };
  let lo = Math.min(low, high);
  let hi = Math.max(low, high);
  if (hi - lo <= Math.abs(hi) * 1e-12) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const span = hi - lo;
  if (!Number.isFinite(span)) return { ticks: [], domain: [0, 1] };
  const raw = span / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const count = Math.round((end - start) / step);
  if (!Number.isFinite(count) || count < 1 || count > 100) return { ticks: [lo, hi], domain: [lo, hi] };
  const decimals = Math.max(0, -Math.floor(Math.log10(step))) + 2;
  const ticks = Array.from({ length: count + 1 }, (_, i) => Number((start + i * step).toFixed(decimals)));
  return { ticks, domain: [ticks[0] ?? start, ticks[ticks.length - 1] ?? end] };
}

/** Labels for evenly spaced ticks: the same number of decimals for all. */
function tickLabels(ticks: number[]): string[] {
  if (ticks.length < 2) return ticks.map((t) => formatNumber(t));
  const step = Math.abs((ticks[1] ?? 0) - (ticks[0] ?? 0));
  const largest = Math.max(...ticks.map(Math.abs));
  if (largest >= 1e6 || (step > 0 && step < 1e-4)) return ticks.map((t) => formatNumber(t));
  const decimals = step > 0 ? Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9))) : 0;
  return ticks.map((t) => {
    const text = t.toFixed(decimals);
    return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
  });
}

function linear(domain: [number, number], range: [number, number]): (value: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (value) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0);
}

/** Rough width of a text in pixels (for layout decisions only). */
function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * 0.58;
}

function truncate(text: string, chars: number): string {
  const glyphs = [...text];
  return glyphs.length <= chars ? text : `${glyphs.slice(0, Math.max(1, chars - 1)).join('')}\u2026`;
}

type Attributes = Record<string, string | number | undefined>;

function attrs(attributes: Attributes): string {
  return Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${typeof value === 'number' ? svgNumber(value) : escapeXml(value)}"`)
    .join('');
}

function el(name: string, attributes: Attributes, children?: string): string {
  return children === undefined
    ? `<${name}${attrs(attributes)}/>`
    : `<${name}${attrs(attributes)}>${children}</${name}>`;
}

/** Hover text of the element it is the first child of. */
function hover(text: string): string {
  return `<title>${escapeXml(text)}</title>`;
}

function text(x: number, y: number, content: string, attributes: Attributes = {}): string {
  return el('text', { x, y, ...attributes }, escapeXml(content));
}

/** A text with a white halo, legible over bars and grid lines. */
function haloText(x: number, y: number, content: string, attributes: Attributes = {}): string {
  return text(x, y, content, {
    stroke: '#ffffff',
    'stroke-width': 3,
    'stroke-linejoin': 'round',
    'paint-order': 'stroke',
    ...attributes,
  });
}

/** A whole SVG document: white background, title (also its accessible name), optional subtitle. */
function svgDocument(
  width: number,
  height: number,
  title: string,
  subtitle: string | undefined,
  body: string,
): string {
  const header =
    text(16, 24, title, { 'font-size': 16, 'font-weight': 'bold', fill: TEXT_COLOUR }) +
    (subtitle ? text(16, 44, subtitle, { 'font-size': 12, fill: AXIS_COLOUR }) : '');
  return (
    `<svg${attrs({
      xmlns: 'http://www.w3.org/2000/svg',
      width,
      height,
      viewBox: `0 0 ${svgNumber(width)} ${svgNumber(height)}`,
      role: 'img',
      'font-family': FONT_FAMILY,
      'font-size': 12,
    })}>` +
    `<title>${escapeXml(subtitle ? `${title}: ${subtitle}` : title)}</title>` +
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }) +
    header +
    body +
    '</svg>'
  );
}

/** A chart with nothing finite to draw. */
export function noDataChart(title: string, reason = 'no data'): string {
  const height = 200;
  return svgDocument(
    WIDTH,
    height,
    title,
    undefined,
    el('rect', {
      x: 16,
      y: 48,
      width: WIDTH - 32,
      height: height - 64,
      fill: '#f6f6f6',
      stroke: GRID_COLOUR,
    }) +
      text(WIDTH / 2, height / 2 + 14, reason === 'no data' ? 'no data' : `no data: ${reason}`, {
        'text-anchor': 'middle',
        'font-size': 16,
        fill: AXIS_COLOUR,
        class: 'no-data',
      }),
  );
}

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Horizontal grid lines, y ticks and labels, and the y axis title. */
function yAxis(box: Box, ticks: number[], y: (v: number) => number, title?: string): string {
  const labels = tickLabels(ticks);
  let out = '';
  ticks.forEach((tick, i) => {
    const ty = y(tick);
    out += el('line', { x1: box.left, x2: box.left + box.width, y1: ty, y2: ty, stroke: GRID_COLOUR });
    out += el('line', { x1: box.left - 4, x2: box.left, y1: ty, y2: ty, stroke: AXIS_COLOUR });
    out += text(box.left - 7, ty + 4, labels[i] ?? '', {
      'text-anchor': 'end',
      'font-size': 11,
      fill: AXIS_COLOUR,
    });
  });
  out += el('line', {
    x1: box.left,
    x2: box.left,
    y1: box.top,
    y2: box.top + box.height,
    stroke: AXIS_COLOUR,
  });
  if (title) {
    const cx = box.left - 46;
    const cy = box.top + box.height / 2;
    out += el(
      'text',
      {
        transform: `translate(${svgNumber(cx)} ${svgNumber(cy)}) rotate(-90)`,
        'text-anchor': 'middle',
        'font-size': 12,
        fill: TEXT_COLOUR,
      },
      escapeXml(title),
    );
  }
  return out;
}

/** Vertical grid lines (optional), x ticks and labels, and the x axis title. */
function xAxis(
  box: Box,
  ticks: number[],
  x: (v: number) => number,
  title?: string,
  labels = tickLabels(ticks),
  grid = true,
): string {
  const bottom = box.top + box.height;
  let out = '';
  ticks.forEach((tick, i) => {
    const tx = x(tick);
    if (grid) out += el('line', { x1: tx, x2: tx, y1: box.top, y2: bottom, stroke: GRID_COLOUR });
    out += el('line', { x1: tx, x2: tx, y1: bottom, y2: bottom + 4, stroke: AXIS_COLOUR });
    out += text(tx, bottom + 17, labels[i] ?? '', {
      'text-anchor': 'middle',
      'font-size': 11,
      fill: AXIS_COLOUR,
    });
  });
  out += el('line', { x1: box.left, x2: box.left + box.width, y1: bottom, y2: bottom, stroke: AXIS_COLOUR });
  if (title)
    out += text(box.left + box.width / 2, bottom + 36, title, {
      'text-anchor': 'middle',
      'font-size': 12,
      fill: TEXT_COLOUR,
    });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Null histogram (personalisation)

/**
 * The permutation test: the null distribution (statistic under shuffled sample -> user assignments) as
 * bars, the null mean +- one sd as a whisker, and the real statistic as a vertical line labelled with its
 * value and z. The x axis always takes in the real statistic, however far outside the null it lies.
 */
export function nullHistogramChart(figures: PersonalisationFigures): string {
  const title = 'Personalisation: real statistic against the permutation null';
  const edges = Array.isArray(figures.null?.edges) ? figures.null.edges : [];
  const counts = Array.isArray(figures.null?.counts) ? figures.null.counts : [];
  const bins: { lo: number; hi: number; count: number }[] = [];
  for (let i = 0; i < counts.length; i += 1) {
    const lo = edges[i];
    const hi = edges[i + 1];
    const count = counts[i];
    if (isFiniteNumber(lo) && isFiniteNumber(hi) && hi > lo && isFiniteNumber(count) && count >= 0)
      bins.push({ lo, hi, count });
  }
  const statistic = isFiniteNumber(figures.statistic) ? figures.statistic : null;
  const mean = isFiniteNumber(figures.permutationMean) ? figures.permutationMean : null;
  const sd =
    isFiniteNumber(figures.permutationStd) && figures.permutationStd >= 0 ? figures.permutationStd : null;

  const xs: number[] = bins.flatMap((b) => [b.lo, b.hi]);
  if (statistic !== null) xs.push(statistic);
  if (mean !== null) xs.push(...(sd !== null ? [mean - sd, mean + sd] : [mean]));
  if (xs.length === 0 || (bins.length === 0 && statistic === null)) return noDataChart(title);

  const subtitle = [
    `${formatNumber(figures.users)} users \u00d7 ${formatNumber(figures.samplesPerUser)} samples`,
    `p = ${formatNumber(figures.pValue)}`,
    `own \u2212 others gap = ${formatNumber(figures.ownVsOthersGap)}`,
  ].join(' \u00b7 ');

  const height = 440;
  const box: Box = { left: 72, top: 88, width: WIDTH - 72 - 28, height: height - 88 - 58 };
  const xNice = niceTicks(Math.min(...xs), Math.max(...xs), 7);
  const x = linear(xNice.domain, [box.left, box.left + box.width]);
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  // Headroom above the tallest bar for the mean +- sd whisker and the statistic's label.
  const yNice = niceTicks(0, maxCount * 1.25, 5);
  const y = linear(yNice.domain, [box.top + box.height, box.top]);

  let body = '';
  // Legend, under the subtitle.
  let lx = 16;
  const ly = 66;
  body += el('rect', { x: lx, y: ly - 9, width: 14, height: 10, fill: PALETTE.skyBlue });
  body += text(lx + 19, ly, 'null: shuffled sample \u2192 user assignments', { fill: TEXT_COLOUR });
  lx += 19 + textWidth('null: shuffled sample \u2192 user assignments', 12) + 18;
  body += el('line', {
    x1: lx,
    x2: lx + 22,
    y1: ly - 4,
    y2: ly - 4,
    stroke: PALETTE.black,
    'stroke-width': 2,
  });
  body += el('circle', { cx: lx + 11, cy: ly - 4, r: 3.5, fill: PALETTE.black });
  body += text(lx + 27, ly, 'null mean \u00b1 sd', { fill: TEXT_COLOUR });
  lx += 27 + textWidth('null mean \u00b1 sd', 12) + 18;
  body += el('line', {
    x1: lx,
    x2: lx + 22,
    y1: ly - 4,
    y2: ly - 4,
    stroke: PALETTE.vermillion,
    'stroke-width': 3,
  });
  body += text(lx + 27, ly, 'real statistic', { fill: TEXT_COLOUR });

  body += yAxis(box, yNice.ticks, y, 'permutations');
  body += xAxis(box, xNice.ticks, x, 'statistic: mean verifier P(like) of the samples for their user');

  const base = y(0);
  body += '<g class="null-bins">';
  for (const bin of bins) {
    const x0 = x(bin.lo);
    const width = Math.max(1, x(bin.hi) - x0 - (x(bin.hi) - x0 > 4 ? 1 : 0));
    const top = y(bin.count);
    body += el(
      'rect',
      { x: x0, y: top, width, height: Math.max(0, base - top), fill: PALETTE.skyBlue },
      hover(
        `[${formatNumber(bin.lo, 4)}, ${formatNumber(bin.hi, 4)}): ${formatNumber(bin.count)} permutation${bin.count === 1 ? '' : 's'}`,
      ),
    );
  }
  body += '</g>';
  if (bins.length === 0) {
    body += text(box.left + box.width / 2, box.top + box.height / 2, 'no null histogram stored', {
      'text-anchor': 'middle',
      'font-size': 14,
      fill: AXIS_COLOUR,
      class: 'no-data',
    });
  }

  if (mean !== null) {
    const wy = box.top + 14;
    const hoverText = `null mean ${formatNumber(mean, 4)} \u00b1 sd ${formatNumber(sd, 3)}`;
    let whisker = el('circle', { cx: x(mean), cy: wy, r: 4, fill: PALETTE.black });
    if (sd !== null) {
      const a = x(mean - sd);
      const b = x(mean + sd);
      whisker =
        el('line', { x1: a, x2: b, y1: wy, y2: wy, stroke: PALETTE.black, 'stroke-width': 2 }) +
        el('line', { x1: a, x2: a, y1: wy - 5, y2: wy + 5, stroke: PALETTE.black, 'stroke-width': 2 }) +
        el('line', { x1: b, x2: b, y1: wy - 5, y2: wy + 5, stroke: PALETTE.black, 'stroke-width': 2 }) +
        whisker;
    }
    body += el('g', { class: 'null-mean-sd' }, hover(hoverText) + whisker);
  }

  if (statistic !== null) {
    const sx = x(statistic);
    const right = sx > box.left + box.width * 0.6;
    const label = `real ${formatNumber(statistic, 4)} \u00b7 z = ${formatNumber(figures.z)}`;
    body += el(
      'g',
      { class: 'real-statistic' },
      hover(
        `real statistic ${formatNumber(statistic, 4)}, z = ${formatNumber(figures.z)}, p = ${formatNumber(figures.pValue)}`,
      ) +
        el('line', {
          x1: sx,
          x2: sx,
          y1: box.top,
          y2: box.top + box.height,
          stroke: PALETTE.vermillion,
          'stroke-width': 3,
        }) +
        haloText(right ? sx - 7 : sx + 7, box.top + 36, label, {
          'text-anchor': right ? 'end' : 'start',
          'font-size': 13,
          'font-weight': 'bold',
          fill: PALETTE.vermillion,
        }),
    );
  }
  return svgDocument(WIDTH, height, title, subtitle, body);
}

// ---------------------------------------------------------------------------------------------------
// Sweeps and ablations

/** The figures of a sweep or ablation row that can be drawn. */
export type SettingMetric = 'verifierScore' | 'oracleLikeRate' | 'diversity' | 'cmmd' | 'inRange' | 'z';

export const SETTING_METRIC_LABELS: Record<SettingMetric, string> = {
  verifierScore: 'verifier score (mean P(like))',
  oracleLikeRate: 'oracle like-rate',
  diversity: 'diversity (mean cosine distance)',
  cmmd: 'CMMD to held-out likes (lower: closer)',
  inRange: 'share inside the catalog range',
  z: 'personalisation z',
};

/** Panel titles where space is short (ablations). */
const SHORT_METRIC_LABELS: Record<SettingMetric, string> = {
  verifierScore: 'verifier score',
  oracleLikeRate: 'oracle like-rate',
  diversity: 'diversity',
  cmmd: 'CMMD (lower: closer)',
  inRange: 'inside catalog range',
  z: 'personalisation z',
};

function metricValue(row: SettingFigures, metric: SettingMetric): number | null {
  const value = row[metric];
  return isFiniteNumber(value) ? value : null;
}

function hasMetric(rows: SettingFigures[], metric: SettingMetric): boolean {
  return rows.some((row) => metricValue(row, metric) !== null);
}

function point(cx: number, cy: number, colour: string, tip: string): string {
  return el('g', { class: 'point' }, hover(tip) + el('circle', { cx, cy, r: 4.5, fill: colour }));
}

/** What a sweep's x axis shows: the guidance scale, the verifier scale, or each row's label in order. */
export type SweepAxis = 'guidance' | 'verifier' | 'label';

function distinctFinite(values: number[]): boolean {
  return values.every(isFiniteNumber) && new Set(values).size === values.length;
}

/** The guidance scale when it tells the rows apart, else the verifier scale when that does, else labels. */
export function sweepAxis(rows: SettingFigures[]): SweepAxis {
  if (rows.length > 1 && distinctFinite(rows.map((r) => r.guidanceScale))) return 'guidance';
  if (rows.length > 1 && distinctFinite(rows.map((r) => r.verifierScale))) return 'verifier';
  if (rows.length === 1 && isFiniteNumber(rows[0]?.guidanceScale)) return 'guidance';
  return 'label';
}

/**
 * A sweep as the runner makes it: first the guidance scales (at the served verifier scale), then the
 * verifier scales (at the served guidance scale). Split there when both parts are there, so each can be
 * drawn against its own scale; null when the rows are not of that shape.
 */
export function splitSweep(
  rows: SettingFigures[],
): { guidance: SettingFigures[]; verifier: SettingFigures[] } | null {
  const first = rows[0];
  if (!first) return null;
  let cut = 0;
  const seen = new Set<number>();
  while (cut < rows.length) {
    const row = rows[cut] as SettingFigures;
    if (row.verifierScale !== first.verifierScale || seen.has(row.guidanceScale)) break;
    seen.add(row.guidanceScale);
    cut += 1;
  }
  const guidance = rows.slice(0, cut);
  const verifier = rows.slice(cut);
  if (guidance.length < 2 || verifier.length === 0) return null;
  const w = verifier[0]?.guidanceScale;
  if (!verifier.every((r) => r.guidanceScale === w) || !distinctFinite(verifier.map((r) => r.verifierScale)))
    return null;
  if (!distinctFinite(guidance.map((r) => r.guidanceScale))) return null;
  return { guidance, verifier };
}

export interface SweepChartOptions {
  /** Panels to draw; default verifier score, oracle like-rate (when any row has one), diversity, CMMD. */
  metrics?: SettingMetric[];
  title?: string;
  /** Default {@link sweepAxis} of the rows. */
  x?: SweepAxis;
}

const AXIS_TITLES: Record<SweepAxis, string> = {
  guidance: 'guidance scale w',
  verifier: 'verifier guidance scale',
  label: 'setting',
};

/**
 * A sweep as small multiples, one panel per metric: a line with points against the guidance scale (or
 * the verifier scale, for a sweep of that alone), or against each row's label in row order when neither
 * scale tells the rows apart.
 */
export function sweepChart(rows: SettingFigures[], options: SweepChartOptions = {}): string {
  const title = options.title ?? 'Guidance sweep';
  const wanted = options.metrics ?? ['verifierScore', 'oracleLikeRate', 'diversity', 'cmmd'];
  const metrics = wanted.filter((m) => hasMetric(rows, m));
  if (rows.length === 0 || metrics.length === 0) return noDataChart(title);
  const requested = options.x ?? sweepAxis(rows);
  // A numeric axis needs every row's scale finite.
  const axis: SweepAxis =
    requested === 'guidance' && rows.every((r) => isFiniteNumber(r.guidanceScale))
      ? 'guidance'
      : requested === 'verifier' && rows.every((r) => isFiniteNumber(r.verifierScale))
        ? 'verifier'
        : 'label';
  const scaleOf = (row: SettingFigures) => (axis === 'verifier' ? row.verifierScale : row.guidanceScale);
  // Numeric axes draw the line in order of the scale; labels in row order.
  const order = rows.map((row, at) => ({ row, at }));
  if (axis !== 'label') order.sort((a, b) => scaleOf(a.row) - scaleOf(b.row));

  const columns = metrics.length === 1 ? 1 : 2;
  const panelWidth = (WIDTH - 16) / columns;
  const longest = axis === 'label' ? Math.max(...rows.map((r) => textWidth(truncate(r.label, 22), 11))) : 0;
  const bottomSpace = axis === 'label' ? Math.min(140, 24 + longest * 0.71) : 56;
  const panelHeight = 190 + bottomSpace;
  const top = 58;
  const height = top + Math.ceil(metrics.length / columns) * panelHeight + 8;
  const held =
    axis === 'guidance'
      ? uniformScale(
          rows.map((r) => r.verifierScale),
          'verifier scale',
        )
      : axis === 'verifier'
        ? uniformScale(
            rows.map((r) => r.guidanceScale),
            'w',
          )
        : '';
  const subtitle =
    `${rows.length} setting${rows.length === 1 ? '' : 's'} ` +
    (axis === 'label' ? 'in the order run' : `against the ${AXIS_TITLES[axis]}`) +
    (held ? ` (${held})` : '');

  let body = '';
  metrics.forEach((metric, index) => {
    const px = 8 + (index % columns) * panelWidth;
    const py = top + Math.floor(index / columns) * panelHeight;
    const box: Box = {
      left: px + 64,
      top: py + 26,
      width: panelWidth - 64 - 16,
      height: panelHeight - 26 - bottomSpace,
    };
    let panel = text(px + 12, py + 14, SETTING_METRIC_LABELS[metric], {
      'font-size': 13,
      'font-weight': 'bold',
      fill: TEXT_COLOUR,
    });
    const values = rows.map((r) => metricValue(r, metric)).filter((v): v is number => v !== null);
    const yNice = niceTicks(Math.min(...values), Math.max(...values), 4);
    const y = linear(yNice.domain, [box.top + box.height, box.top]);
    panel += yAxis(box, yNice.ticks, y);

    let x: (entry: { row: SettingFigures; at: number }) => number;
    if (axis !== 'label') {
      const scales = [...new Set(rows.map(scaleOf))].sort((a, b) => a - b);
      const lo = Math.min(...scales);
      const hi = Math.max(...scales);
      // Ticks at the scales run when they are few, else round ticks.
      const nice = scales.length >= 2 && scales.length <= 8 ? null : niceTicks(lo, hi, 5);
      const pad = (hi - lo) * 0.06 || 0.5;
      const sx = linear(nice ? nice.domain : [lo - pad, hi + pad], [box.left, box.left + box.width]);
      x = (entry) => sx(scaleOf(entry.row));
      panel += nice
        ? xAxis(box, nice.ticks, sx, AXIS_TITLES[axis])
        : xAxis(
            box,
            scales,
            sx,
            AXIS_TITLES[axis],
            scales.map((s) => formatNumber(s)),
          );
    } else {
      const band = box.width / rows.length;
      x = (entry) => box.left + band * (entry.at + 0.5);
      const bottom = box.top + box.height;
      panel += el('line', {
        x1: box.left,
        x2: box.left + box.width,
        y1: bottom,
        y2: bottom,
        stroke: AXIS_COLOUR,
      });
      const showEvery = Math.max(1, Math.ceil(14 / band));
      rows.forEach((row, at) => {
        const tx = x({ row, at });
        panel += el('line', { x1: tx, x2: tx, y1: bottom, y2: bottom + 4, stroke: AXIS_COLOUR });
        if (at % showEvery === 0) {
          panel += el(
            'text',
            {
              transform: `translate(${svgNumber(tx + 3)} ${svgNumber(bottom + 12)}) rotate(-45)`,
              'text-anchor': 'end',
              'font-size': 11,
              fill: AXIS_COLOUR,
            },
            hover(row.label) + escapeXml(truncate(row.label, 22)),
          );
        }
      });
    }

    // A line through consecutive finite points; a missing value breaks it.
    let d = '';
    let pen = false;
    for (const entry of order) {
      const v = metricValue(entry.row, metric);
      if (v === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${svgNumber(x(entry))} ${svgNumber(y(v))} `;
      pen = true;
    }
    if (d) panel += el('path', { d: d.trim(), fill: 'none', stroke: PALETTE.blue, 'stroke-width': 2 });
    for (const entry of order) {
      const { row } = entry;
      const v = metricValue(row, metric);
      if (v === null) continue;
      panel += point(
        x(entry),
        y(v),
        PALETTE.blue,
        `${row.label} (w = ${formatNumber(row.guidanceScale)}, verifier scale ${formatNumber(row.verifierScale)}): ` +
          `${SETTING_METRIC_LABELS[metric]} = ${formatNumber(v, 4)}`,
      );
    }
    const missing = rows.length - values.length;
    if (missing > 0) {
      panel += text(box.left + box.width, py + 14, `${missing} without a value`, {
        'text-anchor': 'end',
        'font-size': 11,
        fill: AXIS_COLOUR,
      });
    }
    body += el('g', { class: `panel panel-${metric}` }, panel);
  });
  return svgDocument(WIDTH, height, title, subtitle, body);
}

/** "name v" when every value is the same v, else "". */
function uniformScale(values: number[], name: string): string {
  const first = values[0];
  return isFiniteNumber(first) && values.every((v) => v === first)
    ? `at ${name} = ${formatNumber(first)}`
    : '';
}

/**
 * Ablations: one row per setting label, one panel per metric (verifier score, oracle like-rate when
 * known, CMMD), each a horizontal bar with its value; separate panels since the scales differ.
 */
export function ablationChart(
  rows: SettingFigures[],
  options: { metrics?: SettingMetric[]; title?: string } = {},
): string {
  const title = options.title ?? 'Ablations';
  const wanted = options.metrics ?? ['verifierScore', 'oracleLikeRate', 'cmmd'];
  const metrics = wanted.filter((m) => hasMetric(rows, m));
  if (rows.length === 0 || metrics.length === 0) return noDataChart(title);

  const colours: Record<SettingMetric, string> = {
    verifierScore: PALETTE.blue,
    oracleLikeRate: PALETTE.green,
    cmmd: PALETTE.orange,
    diversity: PALETTE.purple,
    inRange: PALETTE.skyBlue,
    z: PALETTE.vermillion,
  };
  const rowHeight = rows.length > 30 ? 16 : 26;
  const fontSize = rows.length > 30 ? 10 : 12;
  const labelWidth = Math.min(
    230,
    Math.max(80, ...rows.map((r) => textWidth(truncate(r.label, 34), fontSize))) + 12,
  );
  const top = 84;
  const plotHeight = rows.length * rowHeight;
  const height = top + plotHeight + 48;
  const gutter = 30;
  const panelWidth = (WIDTH - 16 - labelWidth - gutter * (metrics.length - 1)) / metrics.length;

  let body = '';
  rows.forEach((row, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    if (i % 2 === 0)
      body += el('rect', {
        x: 8,
        y: cy - rowHeight / 2,
        width: WIDTH - 16,
        height: rowHeight,
        fill: '#f5f5f5',
      });
    body += el(
      'text',
      {
        x: 8 + labelWidth - 8,
        y: cy + fontSize / 3,
        'text-anchor': 'end',
        'font-size': fontSize,
        fill: TEXT_COLOUR,
      },
      hover(row.label) + escapeXml(truncate(row.label, 34)),
    );
  });

  metrics.forEach((metric, mi) => {
    const left = 8 + labelWidth + mi * (panelWidth + gutter);
    const box: Box = { left, top, width: panelWidth, height: plotHeight };
    const values = rows.map((r) => metricValue(r, metric)).filter((v): v is number => v !== null);
    const probability = metric === 'verifierScore' || metric === 'oracleLikeRate' || metric === 'inRange';
    const lo = Math.min(0, ...values);
    const hi = probability ? Math.max(1, ...values) : Math.max(0, ...values);
    // Room right of the longest bar for its value.
    const reserve = 40;
    const nice = niceTicks(lo, hi, Math.max(2, Math.floor((panelWidth - reserve) / 60)));
    const x = linear(nice.domain, [box.left, box.left + box.width - reserve]);
    const panelTitle = truncate(SHORT_METRIC_LABELS[metric], Math.floor(panelWidth / (12 * 0.62)));
    let panel = text(left, top - 12, panelTitle, {
      'font-size': 12,
      'font-weight': 'bold',
      fill: TEXT_COLOUR,
    });
    panel += xAxis(box, nice.ticks, x);
    const zero = x(0);
    rows.forEach((row, i) => {
      const v = metricValue(row, metric);
      const cy = top + i * rowHeight + rowHeight / 2;
      if (v === null) {
        panel += text(zero + 4, cy + 4, 'n/a', { 'font-size': 11, fill: AXIS_COLOUR });
        return;
      }
      const end = x(v);
      const barHeight = rowHeight * 0.62;
      panel += el(
        'rect',
        {
          x: Math.min(zero, end),
          y: cy - barHeight / 2,
          width: Math.max(1, Math.abs(end - zero)),
          height: barHeight,
          fill: colours[metric],
        },
        hover(`${row.label}: ${SETTING_METRIC_LABELS[metric]} = ${formatNumber(v, 4)}`),
      );
      const label = formatNumber(v);
      // After the bar's end; a negative bar's value goes right of zero.
      panel += haloText(Math.max(end, zero) + 4, cy + 4, label, {
        'text-anchor': 'start',
        'font-size': 11,
        fill: TEXT_COLOUR,
      });
    });
    body += el('g', { class: `panel panel-${metric}` }, panel);
  });
  const subtitle = `${rows.length} settings; each panel has its own scale`;
  return svgDocument(WIDTH, height, title, subtitle, body);
}

// ---------------------------------------------------------------------------------------------------
// Per-user bars and the oracle comparison

/** A horizontal reference line on a per-user chart, e.g. the pooled figure or a random baseline. */
export interface ReferenceLine {
  value: number;
  label: string;
}

export interface PerUserBarsOptions {
  /** The y axis title, e.g. "Frechet distance". */
  valueLabel?: string;
  /** Subtitle; default "N users, sorted by value". */
  subtitle?: string;
  /** Default descending (largest first). */
  sort?: 'descending' | 'ascending' | 'none';
  /** The y domain to include, e.g. [0, 1] for shares; default the values (and 0). */
  domain?: [number, number];
  references?: ReferenceLine[];
  colour?: string;
}

/**
 * One bar per user, sorted; for 1 to a few hundred users: bars get thin, and user ids are written under
 * the bars only when they fit (every bar keeps its id and value as hover text). Values that are not
 * finite are left out and counted in the subtitle.
 */
export function perUserBarsChart(
  title: string,
  values: UserFigure[],
  options: PerUserBarsOptions = {},
): string {
  const all = Array.isArray(values) ? values : [];
  const finite = all.filter((v) => v && isFiniteNumber(v.value));
  if (finite.length === 0) return noDataChart(title);
  const sort = options.sort ?? 'descending';
  const sorted = [...finite];
  if (sort !== 'none') {
    const sign = sort === 'descending' ? -1 : 1;
    sorted.sort((a, b) => sign * (a.value - b.value) || String(a.user).localeCompare(String(b.user)));
  }
  const n = sorted.length;
  const plotWidth = WIDTH - 72 - 24;
  // At most 48 px a bar: a few users' bars stand centred rather than stretched.
  const band = Math.min(48, plotWidth / n);
  const offset = (plotWidth - band * n) / 2;
  const showLabels = band >= 12;
  const longest = showLabels
    ? Math.max(...sorted.map((v) => textWidth(truncate(String(v.user), 16), 11)))
    : 0;
  const bottom = showLabels ? 28 + longest * 0.71 : 44;
  const references = (options.references ?? []).filter((r) => isFiniteNumber(r.value));
  const legendHeight = references.length > 0 ? 22 : 0;
  const top = 60 + legendHeight;
  const height = top + 240 + bottom;
  const box: Box = { left: 72, top, width: plotWidth, height: 240 };

  const numbers = sorted.map((v) => v.value);
  const mean = numbers.reduce((s, v) => s + v, 0) / n;
  const candidates = [...numbers, 0, ...references.map((r) => r.value)];
  if (options.domain && isFiniteNumber(options.domain[0]) && isFiniteNumber(options.domain[1]))
    candidates.push(...options.domain);
  const yNice = niceTicks(Math.min(...candidates), Math.max(...candidates), 5);
  const y = linear(yNice.domain, [box.top + box.height, box.top]);
  const left = all.length - finite.length;
  const subtitle =
    options.subtitle ??
    [
      `${n} user${n === 1 ? '' : 's'}, sorted by value`,
      `mean ${formatNumber(mean)}`,
      ...(left > 0 ? [`${left} without a finite value left out`] : []),
      ...(showLabels ? [] : ['hover a bar for its user']),
    ].join(' \u00b7 ');

  let body = '';
  if (references.length > 0) {
    let lx = 16;
    references.forEach((ref, i) => {
      const colour = i === 0 ? PALETTE.black : PALETTE.vermillion;
      const dash = i === 0 ? '6 3' : '2 3';
      const label = `${ref.label}: ${formatNumber(ref.value)}`;
      body += el('line', {
        x1: lx,
        x2: lx + 24,
        y1: 62,
        y2: 62,
        stroke: colour,
        'stroke-width': 2,
        'stroke-dasharray': dash,
      });
      body += text(lx + 30, 66, label, { fill: TEXT_COLOUR });
      lx += 30 + textWidth(label, 12) + 18;
    });
  }
  body += yAxis(box, yNice.ticks, y, options.valueLabel);
  const base = y(Math.min(Math.max(0, yNice.domain[0]), yNice.domain[1]));
  const gap = band >= 5 ? Math.min(4, band * 0.2) : 0;
  const colour = options.colour ?? PALETTE.blue;
  body += '<g class="bars">';
  sorted.forEach((v, i) => {
    const x0 = box.left + offset + i * band + gap / 2;
    const top = y(v.value);
    body += el(
      'rect',
      {
        x: x0,
        y: Math.min(top, base),
        // Touching thin bars overlap a little, so no seams show between them.
        width: gap > 0 ? band - gap : Math.min(band + 0.4, box.left + box.width - x0),
        height: Math.max(0.5, Math.abs(base - top)),
        fill: colour,
      },
      hover(`${v.user}: ${formatNumber(v.value, 4)}`),
    );
  });
  body += '</g>';
  const axisY = box.top + box.height;
  body += el('line', { x1: box.left, x2: box.left + box.width, y1: axisY, y2: axisY, stroke: AXIS_COLOUR });
  if (showLabels) {
    sorted.forEach((v, i) => {
      const cx = box.left + offset + (i + 0.5) * band;
      body += el(
        'text',
        {
          transform: `translate(${svgNumber(cx + 3)} ${svgNumber(axisY + 10)}) rotate(-45)`,
          'text-anchor': 'end',
          'font-size': 11,
          fill: AXIS_COLOUR,
          class: 'user-label',
        },
        hover(String(v.user)) + escapeXml(truncate(String(v.user), 16)),
      );
    });
  } else {
    body += text(box.left + box.width / 2, axisY + 22, `${n} users (ids too many to write; hover a bar)`, {
      'text-anchor': 'middle',
      'font-size': 11,
      fill: AXIS_COLOUR,
    });
  }
  references.forEach((ref, i) => {
    const ry = y(ref.value);
    body += el(
      'g',
      { class: 'reference' },
      hover(`${ref.label}: ${formatNumber(ref.value, 4)}`) +
        el('line', {
          x1: box.left,
          x2: box.left + box.width,
          y1: ry,
          y2: ry,
          stroke: i === 0 ? PALETTE.black : PALETTE.vermillion,
          'stroke-width': 2,
          'stroke-dasharray': i === 0 ? '6 3' : '2 3',
        }),
    );
  });
  return svgDocument(WIDTH, height, title, subtitle, body);
}

/** The oracle's like-rates: generated items against each user's best catalog items and random ones. */
export function oracleChart(figures: OracleFigures): string {
  const title = 'Oracle like-rate: generated vs best catalog vs random catalog';
  const bars = [
    { label: 'generated for the user', value: figures.generatedLikeRate, colour: PALETTE.vermillion },
    { label: "user's 10 best catalog items", value: figures.bestCatalogLikeRate, colour: PALETTE.blue },
    { label: 'random catalog items', value: figures.randomCatalogLikeRate, colour: PALETTE.grey },
  ];
  if (!bars.some((b) => isFiniteNumber(b.value))) return noDataChart(title);
  const top = 64;
  const rowHeight = 34;
  const labelWidth = 200;
  const box: Box = {
    left: 16 + labelWidth,
    top,
    width: WIDTH - 16 - labelWidth - 64,
    height: bars.length * rowHeight,
  };
  const height = top + box.height + 48;
  const values = bars.map((b) => b.value).filter(isFiniteNumber);
  const nice = niceTicks(Math.min(0, ...values), Math.max(1, ...values), 5);
  const x = linear(nice.domain, [box.left, box.left + box.width]);
  let body = xAxis(box, nice.ticks, x, 'mean oracle P(like)');
  bars.forEach((bar, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    body += text(box.left - 8, cy + 4, bar.label, {
      'text-anchor': 'end',
      fill: TEXT_COLOUR,
      'font-size': 12,
    });
    if (!isFiniteNumber(bar.value)) {
      body += text(box.left + 4, cy + 4, 'n/a', { fill: AXIS_COLOUR });
      return;
    }
    const zero = x(0);
    const end = x(bar.value);
    body += el(
      'rect',
      {
        x: Math.min(zero, end),
        y: cy - 11,
        width: Math.max(1, Math.abs(end - zero)),
        height: 22,
        fill: bar.colour,
      },
      hover(`${bar.label}: ${formatNumber(bar.value, 4)}`),
    );
    body += haloText(end + 5, cy + 4, formatNumber(bar.value), { fill: TEXT_COLOUR, 'font-weight': 'bold' });
  });
  return svgDocument(WIDTH, height, title, 'on the taste world, whose true preferences are known', body);
}

// ---------------------------------------------------------------------------------------------------

/**
 * The charts a report has, one per figure it holds (only for a succeeded report: queued, running and
 * failed reports have none). Names are stable, for `/reports/:id/charts/:name.svg`.
 */
export function chartsFor(report: EvaluationReportView): Chart[] {
  if (report.status !== 'succeeded' || !report.results) return [];
  const results = report.results;
  const charts: Chart[] = [];
  const add = (name: string, title: string, svg: string) => charts.push({ name, title, svg });

  if (results.personalisation) {
    add(
      'null-histogram',
      'Personalisation: real statistic against the permutation null',
      nullHistogramChart(results.personalisation),
    );
  }
  if (results.distribution) {
    const d = results.distribution;
    add(
      'per-user-frechet',
      'Frechet distance per user',
      perUserBarsChart('Frechet distance per user (lower: closer to the held-out likes)', d.perUserFrechet, {
        valueLabel: 'Frechet distance',
        references: [{ value: d.frechetDistance, label: 'all users pooled' }],
        colour: PALETTE.blue,
      }),
    );
    add(
      'per-user-cmmd',
      'CMMD per user',
      perUserBarsChart('CMMD per user (lower: closer to the held-out likes)', d.perUserCmmd, {
        valueLabel: 'CMMD',
        references: [{ value: d.cmmd, label: 'all users pooled' }],
        colour: PALETTE.orange,
      }),
    );
  }
  if (results.precisionRecall) {
    const pr = results.precisionRecall;
    add(
      'per-user-precision',
      'Precision per user',
      perUserBarsChart(`Precision per user (k = ${formatNumber(pr.k)})`, pr.perUserPrecision, {
        valueLabel: 'precision',
        domain: [0, 1],
        references: [{ value: pr.precision, label: 'all users' }],
        colour: PALETTE.blue,
      }),
    );
    add(
      'per-user-recall',
      'Recall per user',
      perUserBarsChart(`Recall per user (k = ${formatNumber(pr.k)})`, pr.perUserRecall, {
        valueLabel: 'recall',
        domain: [0, 1],
        references: [{ value: pr.recall, label: 'all users' }],
        colour: PALETTE.green,
      }),
    );
  }
  if (results.sweep && results.sweep.length > 0) {
    // Guidance scales then verifier scales (the runner's order): each against its own scale.
    const parts = splitSweep(results.sweep);
    if (parts) {
      add('sweep', 'Guidance sweep', sweepChart(parts.guidance, { x: 'guidance' }));
      add(
        'sweep-verifier',
        'Verifier guidance sweep',
        sweepChart(parts.verifier, { x: 'verifier', title: 'Verifier guidance sweep' }),
      );
    } else {
      add('sweep', 'Guidance sweep', sweepChart(results.sweep));
    }
  }
  if (results.ablations && results.ablations.length > 0)
    add('ablation', 'Ablations', ablationChart(results.ablations));
  if (results.topicPrecision) {
    const t = results.topicPrecision;
    add(
      'per-user-topic-content',
      'Content precision per user',
      perUserBarsChart('Topic precision per user: content (subject, composition)', t.perUserContent, {
        valueLabel: 'content precision',
        domain: [0, 1],
        references: [
          { value: t.contentPrecision, label: 'all users' },
          { value: t.randomContentPrecision, label: 'random catalog items' },
        ],
        colour: PALETTE.blue,
      }),
    );
    add(
      'per-user-topic-style',
      'Style precision per user',
      perUserBarsChart('Topic precision per user: style (palette, texture, lighting)', t.perUserStyle, {
        valueLabel: 'style precision',
        domain: [0, 1],
        references: [
          { value: t.stylePrecision, label: 'all users' },
          { value: t.randomStylePrecision, label: 'random catalog items' },
        ],
        colour: PALETTE.purple,
      }),
    );
  }
  if (results.oracle) add('oracle', 'Oracle like-rate', oracleChart(results.oracle));
  return charts;
}
