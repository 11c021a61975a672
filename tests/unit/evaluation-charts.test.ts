import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ablationChart,
  chartsFor,
  escapeXml,
  formatNumber,
  niceTicks,
  nullHistogramChart,
  perUserBarsChart,
  splitSweep,
  sweepAxis,
  sweepChart,
} from '../../src/services/evaluation/charts.js';
import type {
  EvaluationKind,
  EvaluationReportView,
  EvaluationResults,
  Histogram,
  PersonalisationFigures,
  SettingFigures,
  UserFigure,
} from '../../src/services/evaluation/report.js';
import { reportIndexPage, reportPage, reportSummary } from '../../src/services/evaluation/report-page.js';

// ---------------------------------------------------------------------------------------------------
// A minimal well-formedness checker: every tag is syntactically a tag (quoted attributes, no duplicates),
// every element is closed in order (or self-closing; HTML void elements need no close), text holds no raw
// '<' and only known entities, and an XML document has exactly one root element.

const HTML_VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);
const XML_ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
const HTML_ENTITY = /&(?!(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);)/;
const OPEN_TAG = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>/;
const CLOSE_TAG = /^<\/([A-Za-z][\w:.-]*)\s*>/;

function markupProblems(source: string, mode: 'xml' | 'html'): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const entity = mode === 'xml' ? XML_ENTITY : HTML_ENTITY;
  const checkText = (text: string, at: number) => {
    if (entity.test(text)) problems.push(`bare & in text at ${at}: ${JSON.stringify(text.slice(0, 60))}`);
    if (mode === 'xml' && stack.length === 0 && text.trim() !== '')
      problems.push(`text outside the root at ${at}`);
  };
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    if (lt < 0) {
      checkText(source.slice(i), i);
      break;
    }
    checkText(source.slice(i, lt), i);
    const rest = source.slice(lt);
    if (rest.startsWith('<!--')) {
      const end = source.indexOf('-->', lt + 4);
      if (end < 0) return [...problems, `unclosed comment at ${lt}`];
      i = end + 3;
      continue;
    }
    if (mode === 'html' && /^<!DOCTYPE html>/i.test(rest)) {
      i = lt + '<!DOCTYPE html>'.length;
      continue;
    }
    const close = CLOSE_TAG.exec(rest);
    if (close) {
      const name = close[1] as string;
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> at ${lt} closes <${open ?? 'nothing'}>`);
      i = lt + close[0].length;
      continue;
    }
    const tag = OPEN_TAG.exec(rest);
    if (!tag) {
      problems.push(`malformed tag or raw '<' at ${lt}: ${JSON.stringify(rest.slice(0, 60))}`);
      i = lt + 1;
      continue;
    }
    const name = tag[1] as string;
    const attributeNames = [...(tag[2] ?? '').matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)].map((m) => {
      if (entity.test(m[2] ?? '')) problems.push(`bare & in attribute ${m[1]} of <${name}> at ${lt}`);
      return m[1];
    });
    if (new Set(attributeNames).size !== attributeNames.length)
      problems.push(`duplicate attribute on <${name}> at ${lt}`);
    if (mode === 'xml' && stack.length === 0) roots += 1;
    i = lt + tag[0].length;
    const selfClosing = tag[3] === '/' || (mode === 'html' && HTML_VOID.has(name.toLowerCase()));
    if (selfClosing) continue;
    if (mode === 'html' && (name === 'style' || name === 'script')) {
      const end = source.indexOf(`</${name}>`, i);
      if (end < 0) return [...problems, `unclosed <${name}>`];
      i = end + name.length + 3;
      continue;
    }
    stack.push(name);
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (mode === 'xml' && roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

function expectWellFormedSvg(svg: string): { width: number; height: number } {
  expect(markupProblems(svg, 'xml')).toEqual([]);
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  const width = Number(/^<svg[^>]* width="([\d.]+)"/.exec(svg)?.[1]);
  const height = Number(/^<svg[^>]* height="([\d.]+)"/.exec(svg)?.[1]);
  expect(/^<svg[^>]* viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg)?.slice(1).map(Number)).toEqual([
    width,
    height,
  ]);
  expect(width).toBeGreaterThan(0);
  expect(height).toBeGreaterThan(0);
  // The document's own <title> comes first, for its accessible name and hover.
  expect(svg).toMatch(/^<svg[^>]*><title>[^<]+<\/title>/);
  expect(svg).not.toMatch(/NaN|Infinity|undefined|\[object/);
  expect(svg).not.toMatch(/<script|href=|url\(/i);
  // Every position lies within the viewBox and every size is non-negative.
  for (const [, attr, value] of svg.matchAll(/\s(x|x1|x2|cx|y|y1|y2|cy|width|height)="(-?[\d.e+-]+)"/g)) {
    const v = Number(value);
    expect(Number.isFinite(v), `${attr}=${value}`).toBe(true);
    const limit = attr?.startsWith('x') || attr === 'cx' || attr === 'width' ? width : height;
    expect(v, `${attr}=${value}`).toBeGreaterThanOrEqual(0);
    expect(v, `${attr}=${value}`).toBeLessThanOrEqual(limit + 0.5);
  }
  for (const [, x, y] of svg.matchAll(/translate\((-?[\d.]+) (-?[\d.]+)\)/g)) {
    expect(Number(x)).toBeGreaterThanOrEqual(0);
    expect(Number(x)).toBeLessThanOrEqual(width);
    expect(Number(y)).toBeGreaterThanOrEqual(0);
    expect(Number(y)).toBeLessThanOrEqual(height);
  }
  return { width, height };
}

function expectWellFormedPage(html: string): void {
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  expect(markupProblems(html, 'html')).toEqual([]);
  expect(html).not.toMatch(/NaN|Infinity|undefined|\[object/);
  // No scripts and no URL but the SVG namespace's name (never fetched).
  const withoutNamespace = html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '');
  expect(withoutNamespace).not.toMatch(/<script|https?:|\/\/[a-z]|src=|url\(/i);
  expect(html).toMatch(/<meta charset="utf-8">/);
}

// ---------------------------------------------------------------------------------------------------
// Hand-made figures

function gaussianHistogram(mean: number, sd: number, total: number, bins = 40): Histogram {
  const lo = mean - 3.5 * sd;
  const width = (7 * sd) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const density = edges.slice(0, -1).map((e) => Math.exp(-0.5 * ((e + width / 2 - mean) / sd) ** 2));
  const sum = density.reduce((a, b) => a + b, 0);
  return { edges, counts: density.map((d) => Math.round((d / sum) * total)) };
}

function personalisation(zSd: number): PersonalisationFigures {
  const mean = 0.5123;
  const sd = 0.0021;
  const permutations = 999;
  const statistic = mean + zSd * sd;
  return {
    users: 24,
    samplesPerUser: 25,
    statistic,
    permutationMean: mean,
    permutationStd: sd,
    z: zSd,
    pValue: 1 / (permutations + 1),
    ownVsOthersGap: statistic - mean,
    null: gaussianHistogram(mean, sd, permutations),
  };
}

const HOSTILE = '<script>alert("x")</script>';

function users(n: number, value: (i: number) => number, hostile = false): UserFigure[] {
  return Array.from({ length: n }, (_, i) => ({
    user: hostile && i === 3 ? HOSTILE : `user_${String(i).padStart(3, '0')}`,
    value: value(i),
  }));
}

function setting(label: string, w: number, v: number, i: number, oracle = true): SettingFigures {
  return {
    label,
    guidanceScale: w,
    verifierScale: v,
    verifierScore: 0.62 + 0.3 * (1 - Math.exp(-w / 3)) + 0.02 * v,
    diversity: 0.41 - 0.03 * w - 0.01 * v,
    cmmd: 0.35 + 0.04 * (w - 3) ** 2 + 0.01 * i,
    inRange: 0.99 - 0.01 * w,
    oracleLikeRate: oracle ? 0.7 + 0.04 * w : null,
    z: 8 + w,
  };
}

const parameters = {
  samplesPerUser: 25,
  permutations: 999,
  sampler: 'ddim' as const,
  steps: 50,
  guidanceScale: 3,
  verifierScale: 1,
  candidates: 4,
  seed: 7,
  maxUsers: 0,
  scales: [] as number[],
  verifierScales: [] as number[],
};

const oracle = { generatedLikeRate: 0.912, bestCatalogLikeRate: 0.743, randomCatalogLikeRate: 0.318 };

function report(
  id: string,
  kind: EvaluationKind,
  results: EvaluationResults,
  extra: Partial<EvaluationReportView> = {},
): EvaluationReportView {
  return {
    id,
    kind,
    status: 'succeeded',
    modelVersionId: 3,
    parameters: { ...parameters },
    results,
    progress: null,
    error: null,
    createdAt: new Date('2026-11-26T10:00:00Z'),
    finishedAt: new Date('2026-11-26T10:01:23Z'),
    ...extra,
  };
}

const sweepRows = [
  ...[0, 1, 2, 3, 5, 7].map((w, i) => setting(`w = ${w}`, w, 1, i)),
  ...[0, 2, 4].map((v, i) => setting(`verifier ${v}`, 3, v, i)),
];
const ablationRows = [
  setting('as served', 3, 1, 0),
  setting('no user condition', 3, 1, 1),
  setting('unconditional (w = 0)', 0, 1, 2),
  setting('no verifier guidance', 3, 0, 3),
  setting('one candidate (no selection)', 3, 1, 4),
  setting(HOSTILE, 3, 1, 5),
].map((row, i) => ({ ...row, verifierScore: 0.9 - 0.07 * i, cmmd: 0.3 + 0.05 * i }));

const SAMPLES: EvaluationReportView[] = [
  report('personalisation', 'personalisation', {
    personalisation: personalisation(6.5),
    oracle,
    samplingSeconds: 12.3,
  }),
  report('personalisation-far', 'personalisation', { personalisation: personalisation(60) }),
  report(
    'distribution',
    'distribution',
    {
      distribution: {
        generated: 600,
        reference: 1432,
        frechetDistance: 12.84,
        cmmd: 0.4213,
        perUserFrechet: users(24, (i) => 9 + ((i * 7) % 11) * 0.8, true),
        perUserCmmd: users(24, (i) => 0.2 + ((i * 5) % 13) * 0.04, true),
      },
      oracle,
    },
    { progress: { phase: 'done', done: 1, total: 1 } },
  ),
  report('precision-recall-500', 'precision_recall', {
    precisionRecall: {
      k: 25,
      precision: 0.61,
      recall: 0.34,
      perUserPrecision: users(500, (i) => 0.3 + (0.6 * ((i * 37) % 500)) / 500),
      perUserRecall: users(500, (i) => 0.1 + (0.5 * ((i * 91) % 500)) / 500),
    },
  }),
  report('precision-recall-1', 'precision_recall', {
    precisionRecall: {
      k: 25,
      precision: 0.5,
      recall: 0.25,
      perUserPrecision: users(1, () => 0.5),
      perUserRecall: users(1, () => 0.25),
    },
  }),
  report(
    'guidance-sweep',
    'guidance_sweep',
    { sweep: sweepRows, oracle },
    {
      parameters: { ...parameters, scales: [0, 1, 2, 3, 5, 7], verifierScales: [0, 2, 4] },
    },
  ),
  report('guidance-sweep-no-oracle', 'guidance_sweep', {
    sweep: [1, 3, 5, 7].map((w, i) => setting(`w = ${w}`, w, 1, i, false)),
  }),
  report('ablation', 'ablation', { ablations: ablationRows, oracle }),
  report('topic-precision', 'topic_precision', {
    topicPrecision: {
      contentPrecision: 0.71,
      stylePrecision: 0.64,
      randomContentPrecision: 0.22,
      randomStylePrecision: 0.31,
      perUserContent: users(24, (i) => 0.4 + ((i * 7) % 24) / 40, true),
      perUserStyle: users(24, (i) => 0.35 + ((i * 11) % 24) / 40, true),
    },
    oracle,
  }),
  report('queued', 'personalisation', {}, { status: 'queued', finishedAt: null }),
  report(
    'running',
    'distribution',
    {},
    {
      status: 'running',
      finishedAt: null,
      progress: { phase: 'sampling <users>', done: 7, total: 24 },
    },
  ),
  report(
    'failed',
    'ablation',
    {},
    {
      status: 'failed',
      error: 'an evaluation needs at least two users known to the prior & the verifier\n  at <compute>',
    },
  ),
  report('not-finite', 'personalisation', {
    personalisation: {
      ...personalisation(6),
      statistic: Number.NaN,
      z: Number.NaN,
      pValue: Number.NaN,
      permutationStd: Number.POSITIVE_INFINITY,
      null: { edges: [Number.NaN, Number.NaN], counts: [Number.NaN] },
    },
    distribution: {
      generated: 0,
      reference: 0,
      frechetDistance: Number.NaN,
      cmmd: Number.NEGATIVE_INFINITY,
      perUserFrechet: users(3, () => Number.NaN),
      perUserCmmd: [],
    },
    sweep: [
      {
        ...setting('w = missing', Number.NaN, 1, 0),
        verifierScore: Number.NaN,
        diversity: Number.NaN,
        cmmd: Number.NaN,
        inRange: Number.NaN,
        oracleLikeRate: null,
        z: Number.NaN,
      },
    ],
    oracle: {
      generatedLikeRate: Number.NaN,
      bestCatalogLikeRate: Number.NaN,
      randomCatalogLikeRate: Number.NaN,
    },
  }),
];

const OUTPUT = fileURLToPath(new URL('../../test-output/evaluation-charts/', import.meta.url));
const written: { name: string; content: string }[] = [];

afterAll(() => {
  // For a person to look at: the charts and pages of the sample reports.
  mkdirSync(OUTPUT, { recursive: true });
  for (const { name, content } of written) writeFileSync(join(OUTPUT, name), content);
});

function sample(id: string): EvaluationReportView {
  const found = SAMPLES.find((r) => r.id === id);
  if (!found) throw new Error(id);
  return found;
}

// ---------------------------------------------------------------------------------------------------

describe('evaluation charts', () => {
  it('draws every sample report as well-formed SVG with stable names', () => {
    const names = new Map<string, string[]>();
    for (const r of SAMPLES) {
      const charts = chartsFor(r);
      names.set(
        r.id,
        charts.map((c) => c.name),
      );
      for (const chart of charts) {
        expectWellFormedSvg(chart.svg);
        expect(chart.name).toMatch(/^[a-z-]+$/);
        written.push({ name: `${r.id}--${chart.name}.svg`, content: chart.svg });
      }
    }
    expect(Object.fromEntries(names)).toEqual({
      personalisation: ['null-histogram', 'oracle'],
      'personalisation-far': ['null-histogram'],
      distribution: ['per-user-frechet', 'per-user-cmmd', 'oracle'],
      'precision-recall-500': ['per-user-precision', 'per-user-recall'],
      'precision-recall-1': ['per-user-precision', 'per-user-recall'],
      'guidance-sweep': ['sweep', 'sweep-verifier', 'oracle'],
      'guidance-sweep-no-oracle': ['sweep'],
      ablation: ['ablation', 'oracle'],
      'topic-precision': ['per-user-topic-content', 'per-user-topic-style', 'oracle'],
      queued: [],
      running: [],
      failed: [],
      'not-finite': ['null-histogram', 'per-user-frechet', 'per-user-cmmd', 'sweep', 'oracle'],
    });
  });

  it('puts the real statistic inside the x axis even when it lies 6 or 60 sd beyond the null', () => {
    for (const z of [6.5, 60, -8]) {
      const figures = personalisation(z);
      const svg = nullHistogramChart(figures);
      const { width } = expectWellFormedSvg(svg);
      const line = /<g class="real-statistic">.*?<line x1="([\d.]+)" x2="([\d.]+)"/.exec(svg);
      expect(line).not.toBeNull();
      const x = Number(line?.[1]);
      expect(x).toBeGreaterThan(72); // inside the plot, right of the y axis
      expect(x).toBeLessThan(width - 20);
      // The label gives the value and z; the hover text p.
      expect(svg).toContain(`real ${formatNumber(figures.statistic, 4)} \u00b7 z = ${formatNumber(z)}`);
      expect(svg).toContain('p = 0.001');
      // The null's bars and the mean +- sd whisker are drawn too, left (or right) of the line.
      expect(svg.match(/<rect[^>]*><title>\[/g)?.length).toBe(40);
      expect(svg).toContain('<g class="null-mean-sd">');
      const ticks = [
        ...svg.matchAll(/text-anchor="middle" font-size="11" fill="#444444">(-?[\d.]+)<\/text>/g),
      ].map((m) => Number(m[1]));
      expect(Math.min(...ticks)).toBeLessThanOrEqual(
        Math.min(figures.statistic, figures.null.edges[0] as number),
      );
      expect(Math.max(...ticks)).toBeGreaterThanOrEqual(
        Math.max(figures.statistic, figures.null.edges.at(-1) as number),
      );
    }
  });

  it('says "no data" instead of writing NaN for figures that are not finite', () => {
    const charts = chartsFor(sample('not-finite'));
    for (const chart of charts) {
      expectWellFormedSvg(chart.svg);
      expect(chart.svg, chart.name).toContain('no data');
    }
    expect(perUserBarsChart('empty', [])).toContain('no data');
    expect(sweepChart([])).toContain('no data');
    expect(ablationChart([])).toContain('no data');
    // A null with no histogram but a finite statistic still shows the statistic.
    const partial = nullHistogramChart({ ...personalisation(5), null: { edges: [], counts: [] } });
    expectWellFormedSvg(partial);
    expect(partial).toContain('no null histogram stored');
    expect(partial).toContain('<g class="real-statistic">');
    // Values that are not finite are left out of per-user charts and counted.
    const some = perUserBarsChart('some', [...users(4, (i) => i / 4), { user: 'bad', value: Number.NaN }]);
    expectWellFormedSvg(some);
    expect(some).toContain('1 without a finite value left out');
    expect(some).not.toContain('>bad<');
  });

  it('labels users when they fit, and draws 500 users as thin bars with hover text only', () => {
    const few = perUserBarsChart(
      'few',
      users(12, (i) => i / 12, true),
    );
    expectWellFormedSvg(few);
    expect(few.match(/class="user-label"/g)?.length).toBe(12);
    expect(few).toContain('user_000');
    // Sorted descending: the largest value's user comes first.
    expect(few.indexOf('>user_011<')).toBeLessThan(few.indexOf('>user_000<'));

    const many = perUserBarsChart(
      'many',
      users(500, (i) => Math.sin(i)),
    );
    const { width } = expectWellFormedSvg(many);
    expect(many).not.toContain('class="user-label"');
    expect(many.match(/<rect[^>]*><title>user_\d+: /g)?.length).toBe(500);
    const bars = [...many.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    for (const [x, w] of bars) expect((x as number) + (w as number)).toBeLessThanOrEqual(width);
    expect(many).toContain('500 users');

    const one = perUserBarsChart(
      'one',
      users(1, () => 0.4),
    );
    expectWellFormedSvg(one);
    expect(one).toContain('user_000');
  });

  it('escapes user ids and labels in charts', () => {
    for (const id of ['distribution', 'ablation', 'topic-precision']) {
      for (const chart of chartsFor(sample(id))) {
        expect(chart.svg).not.toContain('<script');
        if (chart.name !== 'oracle')
          expect(chart.svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
      }
    }
    expect(escapeXml('a & b < c > d " e \' f \u0001')).toBe(
      'a &amp; b &lt; c &gt; d &quot; e &apos; f \uFFFD',
    );
  });

  it('draws a sweep against the guidance scale, and the verifier scales against their own', () => {
    expect(sweepAxis(sweepRows)).toBe('label');
    const parts = splitSweep(sweepRows);
    expect(parts?.guidance.map((r) => r.label)).toEqual([
      'w = 0',
      'w = 1',
      'w = 2',
      'w = 3',
      'w = 5',
      'w = 7',
    ]);
    expect(parts?.verifier.map((r) => r.label)).toEqual(['verifier 0', 'verifier 2', 'verifier 4']);
    const guidance = sweepChart(parts?.guidance ?? []);
    expectWellFormedSvg(guidance);
    expect(guidance).toContain('guidance scale w');
    expect(guidance).toContain('oracle like-rate');
    expect(guidance.match(/<g class="panel /g)?.length).toBe(4);
    expect(guidance.match(/<path /g)?.length).toBe(4);
    const verifier = sweepChart(parts?.verifier ?? []);
    expect(verifier).toContain('verifier guidance scale');
    expect(verifier).toContain('(at w = 3)');
    // Without an oracle, three panels; rows whose scales repeat are drawn by label.
    const noOracle = sweepChart(ablationRows.map((r) => ({ ...r, oracleLikeRate: null })));
    expectWellFormedSvg(noOracle);
    expect(noOracle.match(/<g class="panel /g)?.length).toBe(3);
    expect(noOracle).toContain('>no user condition</text>');
  });

  it('draws ablations as one panel per metric with each setting labelled', () => {
    const svg = ablationChart(ablationRows);
    expectWellFormedSvg(svg);
    expect(svg.match(/<g class="panel /g)?.length).toBe(3);
    for (const label of [
      'as served',
      'no user condition',
      'unconditional (w = 0)',
      'one candidate (no selection)',
    ]) {
      expect(svg).toContain(`>${label}</text>`);
    }
    expect(svg).toContain('CMMD');
  });

  it('picks round ticks that cover the data', () => {
    expect(niceTicks(0, 1).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.5043, 0.5263, 5).domain[1]).toBeGreaterThanOrEqual(0.5263);
    expect(niceTicks(3, 3).ticks.length).toBeGreaterThan(1);
    expect(niceTicks(Number.NaN, 1).ticks).toEqual([]);
    expect(formatNumber(Number.NaN)).toBe('n/a');
    expect(formatNumber(0.000999)).toBe('0.000999');
    expect(formatNumber(12345.6)).toBe('12346');
  });
});

describe('evaluation report pages', () => {
  it('renders every sample report as a well-formed page with its charts inline', () => {
    for (const r of SAMPLES) {
      const charts = chartsFor(r);
      const html = reportPage(r, charts, { modelVersionLabel: 'v3 <active>' });
      expectWellFormedPage(html);
      expect(html).toContain('v3 &lt;active&gt;');
      for (const chart of charts) expect(html).toContain(chart.svg);
      written.push({ name: `${r.id}.html`, content: html });
    }
    const index = reportIndexPage(SAMPLES);
    expectWellFormedPage(index);
    written.push({ name: 'index.html', content: index });
  });

  it('shows the personalisation figures with p = (k+1)/(N+1) and the oracle comparison', () => {
    const html = reportPage(sample('personalisation'), chartsFor(sample('personalisation')), {});
    expect(html).toContain('<h1>Personalisation (permutation test)</h1>');
    expect(html).toContain('0.5123 \u00b1 0.0021');
    expect(html).toContain('p = (k + 1)/(N + 1) = (0 + 1)/(999 + 1) = 0.001');
    expect(html).toContain('none of the 999 shuffles reached the real statistic');
    expect(html).toContain('Oracle: generated vs best catalog vs random catalog');
    expect(html).toContain('<td class="num">0.912</td><td class="num">0.743</td><td class="num">0.318</td>');
    expect(html).toContain('#3'); // the default model version label
    expect(html).toContain('took 1 min 23 s');
    expect(html).not.toContain('http-equiv="refresh"');
  });

  it('reloads a queued or running report and shows its progress', () => {
    const running = reportPage(sample('running'), [], {});
    expect(running).toContain('<meta http-equiv="refresh" content="2">');
    expect(running).toContain('sampling &lt;users&gt;');
    expect(running).toContain('<progress value="7" max="24">');
    expect(running).toContain('7 of 24 (29%)');
    const queued = reportPage(sample('queued'), [], {});
    expect(queued).toContain('<meta http-equiv="refresh" content="2">');
    expect(queued).toContain('Waiting for a worker.');
  });

  it('shows a failed report’s error, escaped, without reloading', () => {
    const html = reportPage(sample('failed'), [], {});
    expect(html).toContain('role="alert"');
    expect(html).toContain('prior &amp; the verifier\n  at &lt;compute&gt;');
    expect(html).not.toContain('http-equiv="refresh"');
  });

  it('escapes user ids and setting labels in the page', () => {
    for (const id of ['distribution', 'ablation', 'topic-precision']) {
      const html = reportPage(sample(id), chartsFor(sample(id)), {});
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    }
    const hostile = reportPage({ ...sample('failed'), id: '"><script>x</script>' }, [], {});
    expect(hostile).not.toContain('<script');
  });

  it('lists reports linking to /reports/:id with a summary', () => {
    const index = reportIndexPage([
      sample('personalisation'),
      sample('running'),
      { ...sample('failed'), id: 'a b/<c>' },
    ]);
    expect(index).toContain('<a href="/reports/personalisation">');
    expect(index).toContain('<a href="/reports/a%20b%2F%3Cc%3E">');
    expect(index).toContain('z = 6.5, p = 0.001');
    expect(index).toContain('<meta http-equiv="refresh"');
    expect(reportSummary(sample('failed'))).toMatch(/^failed: an evaluation needs/);
    expect(reportIndexPage([])).toContain('No evaluation reports yet');
    expect(reportIndexPage([sample('ablation')])).not.toContain('http-equiv="refresh"');
  });
});
