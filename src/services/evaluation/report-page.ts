/**
 * Evaluation reports as plain HTML5 pages for analysts: no scripts, no external URLs, inline styles and
 * the charts' SVG inline, so a page saved to disk shows the same. Every text from a report (user ids,
 * labels, error messages, parameters) is escaped; numbers not finite read "n/a".
 */
import { escapeXml, formatNumber, isFiniteNumber } from './charts.js';
import {
  type Chart,
  type DistributionFigures,
  type EvaluationKind,
  type EvaluationParameters,
  type EvaluationReportView,
  type OracleFigures,
  type PersonalisationFigures,
  type PrecisionRecallFigures,
  type SettingFigures,
  type TopicFigures,
  type UserFigure,
} from './report.js';

/** HTML escaping: the same as XML's (the five markup characters; `&apos;` is valid HTML5). */
export const escapeHtml = escapeXml;

export const KIND_TITLES: Record<EvaluationKind, string> = {
  personalisation: 'Personalisation (permutation test)',
  distribution: 'Distribution: Frechet distance and CMMD',
  precision_recall: 'Precision and recall',
  guidance_sweep: 'Guidance sweep',
  ablation: 'Ablations',
  topic_precision: 'Topic precision',
};

/** Seconds between reloads of a page whose report is still queued or running. */
export const REFRESH_SECONDS = 2;
/** Seconds between reloads of the index while any report is queued or running. */
export const INDEX_REFRESH_SECONDS = 5;

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1.5rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1a1a1a; background: #fafafa; }
main { max-width: 62rem; margin: 0 auto; background: #fff; padding: 1.5rem 2rem; border: 1px solid #e3e3e3; border-radius: 6px; }
h1 { font-size: 1.6rem; margin: 0 0 0.5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.6rem; border-bottom: 1px solid #e3e3e3; padding-bottom: 0.2rem; }
a { color: #0b5ea8; }
.nav { font-size: 0.9rem; margin-bottom: 1rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; margin: 0.8rem 0; }
dl.meta dt { color: #555; }
dl.meta dd { margin: 0; }
.status { display: inline-block; padding: 0.05rem 0.55rem; border-radius: 999px; font-size: 0.85rem; font-weight: 600; border: 1px solid; }
.status-succeeded { background: #e3f4ee; color: #005f45; border-color: #009E73; }
.status-failed { background: #fbe7dc; color: #8a3300; border-color: #D55E00; }
.status-running { background: #e1eef8; color: #004a75; border-color: #0072B2; }
.status-queued { background: #eeeeee; color: #333; border-color: #888; }
table { border-collapse: collapse; margin: 0.4rem 0 1rem; font-size: 0.95rem; }
th, td { border: 1px solid #d9d9d9; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
thead th { background: #f2f2f2; }
tbody th { font-weight: normal; color: #333; background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.figures td.num { text-align: left; }
td time { white-space: nowrap; }
.note { color: #555; font-size: 0.9rem; }
.error { border: 2px solid #D55E00; background: #fdf1ea; padding: 0.8rem 1rem; border-radius: 6px; }
.error h2 { margin-top: 0; }
.error pre { white-space: pre-wrap; word-break: break-word; margin: 0.4rem 0 0; font-size: 0.9rem; }
progress { width: 20rem; max-width: 100%; height: 1.1rem; vertical-align: middle; }
figure { margin: 1rem 0 2rem; }
figure svg { max-width: 100%; height: auto; display: block; border: 1px solid #eee; }
details { margin: 0.4rem 0 1rem; }
summary { cursor: pointer; color: #0b5ea8; }
code { font-size: 0.9em; }
`;

export interface ReportPageOptions {
  /** How to name the model version, e.g. "v3 (2026-11-20, active)"; default "#<id>". */
  modelVersionLabel?: string;
  /** The link to the list of reports (signed by the gateway); default `/reports`. */
  indexHref?: string;
}

function page(title: string, body: string, refreshSeconds?: number): string {
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    (refreshSeconds !== undefined ? `<meta http-equiv="refresh" content="${refreshSeconds}">\n` : '') +
    `<title>${escapeHtml(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<main>\n${body}\n</main>\n</body>\n</html>\n`
  );
}

function kindTitle(kind: string): string {
  return (KIND_TITLES as Record<string, string>)[kind] ?? kind;
}

function asDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `<time>` in UTC, or a dash. */
function timeHtml(value: Date | string | null | undefined): string {
  const date = asDate(value);
  if (!date) return '\u2014';
  const iso = date.toISOString();
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time>`;
}

function duration(
  from: Date | string | null | undefined,
  to: Date | string | null | undefined,
): string | null {
  const a = asDate(from);
  const b = asDate(to);
  if (!a || !b) return null;
  const seconds = Math.max(0, (b.getTime() - a.getTime()) / 1000);
  if (seconds < 60) return `${formatNumber(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function statusHtml(status: string): string {
  return `<span class="status status-${escapeHtml(status)}">${escapeHtml(status)}</span>`;
}

/** A number cell. */
function num(value: number | null | undefined, significant = 3): string {
  return `<td class="num">${escapeHtml(formatNumber(value, significant))}</td>`;
}

/** A two-column table of label -> already-escaped HTML value. */
function keyValueTable(rows: [string, string][], className = 'figures'): string {
  return (
    `<table class="${className}"><tbody>` +
    rows.map(([label, html]) => `<tr><th scope="row">${escapeHtml(label)}</th>${html}</tr>`).join('') +
    '</tbody></table>'
  );
}

function parameterValue(value: unknown): string {
  if (value === null || value === undefined) return '\u2014';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : formatNumber(value, 6);
  if (Array.isArray(value)) return value.length === 0 ? '\u2014' : value.map(parameterValue).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const PARAMETER_LABELS: Record<keyof EvaluationParameters, string> = {
  samplesPerUser: 'samples per user',
  permutations: 'permutations (shuffles of the null)',
  sampler: 'sampler',
  steps: 'denoising steps',
  guidanceScale: 'guidance scale w',
  verifierScale: 'verifier guidance scale',
  candidates: 'candidates per sample',
  seed: 'seed',
  maxUsers: 'users (at most)',
  scales: 'guidance scales swept',
  verifierScales: 'verifier scales swept',
};

function parametersHtml(parameters: EvaluationParameters | null | undefined): string {
  if (!parameters || typeof parameters !== 'object') return '<p class="note">No parameters recorded.</p>';
  const known = Object.keys(PARAMETER_LABELS) as (keyof EvaluationParameters)[];
  const rows: [string, string][] = [];
  for (const key of known) {
    if (!(key in parameters)) continue;
    const value = parameters[key];
    const shown = key === 'maxUsers' && value === 0 ? 'all' : parameterValue(value);
    rows.push([PARAMETER_LABELS[key], `<td>${escapeHtml(shown)}</td>`]);
  }
  // Settings this page does not know yet (a newer runner), as stored.
  for (const [key, value] of Object.entries(parameters)) {
    if ((known as string[]).includes(key)) continue;
    rows.push([key, `<td>${escapeHtml(parameterValue(value))}</td>`]);
  }
  return keyValueTable(rows, 'parameters');
}

/** The p-value's formula with its k and N, when p and the number of permutations agree. */
function pValueHtml(p: number, permutations: number | undefined): string {
  const shown = escapeHtml(formatNumber(p));
  if (!isFiniteNumber(p) || !isFiniteNumber(permutations) || permutations < 1) {
    return `p = (k + 1)/(N + 1) = ${shown}`;
  }
  const k = p * (permutations + 1) - 1;
  const kRounded = Math.round(k);
  if (Math.abs(k - kRounded) > 1e-6 || kRounded < 0) return `p = (k + 1)/(N + 1) = ${shown}`;
  const reached =
    kRounded === 0
      ? `none of the ${permutations} shuffles reached the real statistic`
      : `${kRounded} of the ${permutations} shuffles reached the real statistic`;
  return `p = (k + 1)/(N + 1) = (${kRounded} + 1)/(${permutations} + 1) = ${shown} <span class="note">(${escapeHtml(reached)})</span>`;
}

function personalisationHtml(f: PersonalisationFigures, permutations: number | undefined): string {
  return (
    '<h2>Personalisation</h2>' +
    '<p class="note">The statistic is the mean, over users, of the verifier&apos;s P(like) of the samples generated ' +
    'for them; the null shuffles which user each sample belongs to.</p>' +
    keyValueTable([
      ['users', num(f.users)],
      ['samples per user', num(f.samplesPerUser)],
      ['statistic (real)', num(f.statistic, 4)],
      [
        'null mean \u00b1 sd',
        `<td class="num">${escapeHtml(`${formatNumber(f.permutationMean, 4)} \u00b1 ${formatNumber(f.permutationStd, 3)}`)}</td>`,
      ],
      ['z = (statistic \u2212 null mean) / sd', num(f.z)],
      ['p', `<td>${pValueHtml(f.pValue, permutations)}</td>`],
      ['own \u2212 others gap', num(f.ownVsOthersGap)],
    ])
  );
}

/** Per-user figures of several series, merged by user id, inside a <details>. */
function perUserTable(columns: { title: string; values: UserFigure[] | undefined }[]): string {
  const users = new Map<string, (number | undefined)[]>();
  columns.forEach((column, c) => {
    for (const figure of Array.isArray(column.values) ? column.values : []) {
      if (!figure) continue;
      const key = String(figure.user);
      const row = users.get(key) ?? new Array<number | undefined>(columns.length).fill(undefined);
      row[c] = figure.value;
      users.set(key, row);
    }
  });
  if (users.size === 0) return '';
  const head = `<tr><th scope="col">user</th>${columns.map((c) => `<th scope="col">${escapeHtml(c.title)}</th>`).join('')}</tr>`;
  const body = [...users.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([user, values]) => `<tr><td>${escapeHtml(user)}</td>${values.map((v) => num(v, 4)).join('')}</tr>`)
    .join('');
  return `<details><summary>Per user (${users.size})</summary><table class="per-user"><thead>${head}</thead><tbody>${body}</tbody></table></details>`;
}

function distributionHtml(f: DistributionFigures): string {
  return (
    '<h2>Distribution</h2>' +
    keyValueTable([
      ['generated embeddings', num(f.generated)],
      ['held-out liked embeddings (reference)', num(f.reference)],
      ['Frechet distance', num(f.frechetDistance, 4)],
      ['CMMD', num(f.cmmd, 4)],
    ]) +
    '<p class="note">Lower is closer to the held-out likes. Per-user figures rest on few points each: noisy, for comparison only.</p>' +
    perUserTable([
      { title: 'Frechet distance', values: f.perUserFrechet },
      { title: 'CMMD', values: f.perUserCmmd },
    ])
  );
}

function precisionRecallHtml(f: PrecisionRecallFigures): string {
  return (
    '<h2>Precision and recall</h2>' +
    keyValueTable([
      ['generated embeddings per user (k)', num(f.k)],
      ['precision (matches the user liked)', num(f.precision)],
      ['recall (held-out likes matched)', num(f.recall)],
    ]) +
    perUserTable([
      { title: 'precision', values: f.perUserPrecision },
      { title: 'recall', values: f.perUserRecall },
    ])
  );
}

function settingsTable(rows: SettingFigures[]): string {
  const head =
    '<tr><th scope="col">setting</th><th scope="col">w</th><th scope="col">verifier scale</th>' +
    '<th scope="col">verifier score</th><th scope="col">oracle like-rate</th><th scope="col">diversity</th>' +
    '<th scope="col">CMMD</th><th scope="col">in range</th><th scope="col">z</th></tr>';
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.label)}</td>${num(r.guidanceScale)}${num(r.verifierScale)}${num(r.verifierScore)}` +
        `${num(r.oracleLikeRate)}${num(r.diversity)}${num(r.cmmd)}${num(r.inRange)}${num(r.z)}</tr>`,
    )
    .join('');
  return `<table class="settings"><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function topicHtml(f: TopicFigures): string {
  return (
    '<h2>Topic precision</h2>' +
    '<p class="note">Share of generated pictures whose decoded attributes all appear among the user&apos;s liked items, ' +
    'against the same share for random catalog items.</p>' +
    '<table class="topic"><thead><tr><th scope="col"></th><th scope="col">generated</th><th scope="col">random catalog</th></tr></thead><tbody>' +
    `<tr><th scope="row">content (subject, composition)</th>${num(f.contentPrecision)}${num(f.randomContentPrecision)}</tr>` +
    `<tr><th scope="row">style (palette, texture, lighting)</th>${num(f.stylePrecision)}${num(f.randomStylePrecision)}</tr>` +
    '</tbody></table>' +
    perUserTable([
      { title: 'content', values: f.perUserContent },
      { title: 'style', values: f.perUserStyle },
    ])
  );
}

function oracleHtml(f: OracleFigures): string {
  return (
    '<h2>Oracle: generated vs best catalog vs random catalog</h2>' +
    '<p class="note">On a taste world the true preferences are known: mean oracle P(like) of generated items for ' +
    'the users they were made for, of each user&apos;s 10 best catalog items, and of random catalog items.</p>' +
    '<table class="oracle"><thead><tr><th scope="col">generated</th><th scope="col">best catalog</th><th scope="col">random catalog</th></tr></thead>' +
    `<tbody><tr>${num(f.generatedLikeRate)}${num(f.bestCatalogLikeRate)}${num(f.randomCatalogLikeRate)}</tr></tbody></table>`
  );
}

function progressHtml(report: EvaluationReportView): string {
  const p = report.progress;
  let inner: string;
  if (!p) {
    inner = `<p>${report.status === 'queued' ? 'Waiting for a worker.' : 'Starting.'}</p>`;
  } else {
    const done = isFiniteNumber(p.done) ? p.done : 0;
    const total = isFiniteNumber(p.total) && p.total > 0 ? p.total : 0;
    const percent = total > 0 ? ` (${Math.round((Math.min(done, total) / total) * 100)}%)` : '';
    inner =
      `<p>Phase: <strong>${escapeHtml(p.phase)}</strong>, ${escapeHtml(formatNumber(done, 6))} of ${escapeHtml(formatNumber(total, 6))}${percent}</p>` +
      (total > 0
        ? `<progress value="${Math.min(done, total)}" max="${total}">${escapeHtml(percent.trim())}</progress>`
        : '');
  }
  return (
    '<section class="progress"><h2>Progress</h2>' +
    inner +
    `<p class="note">This page reloads every ${REFRESH_SECONDS} s until the report is done.</p></section>`
  );
}

function chartsHtml(charts: Chart[]): string {
  if (charts.length === 0) return '';
  return (
    '<h2>Charts</h2>' +
    charts
      .map(
        // The SVG is markup made by charts.ts (all its text escaped there), embedded as is.
        (chart) =>
          `<figure class="chart" id="chart-${escapeHtml(chart.name)}" aria-label="${escapeHtml(chart.title)}">${chart.svg}</figure>`,
      )
      .join('\n')
  );
}

/**
 * One report as a complete HTML page: what was run, its status, its figures as tables and its charts
 * inline; a queued or running report shows its progress and reloads itself, a failed one its error.
 */
export function reportPage(
  report: EvaluationReportView,
  charts: Chart[],
  options: ReportPageOptions = {},
): string {
  const title = `${kindTitle(report.kind)} \u2014 evaluation report ${report.id}`;
  const active = report.status === 'queued' || report.status === 'running';
  const modelVersion = options.modelVersionLabel ?? `#${report.modelVersionId}`;
  const took = duration(report.createdAt, report.finishedAt);
  const results = report.results ?? {};

  let body =
    `<p class="nav"><a href="${escapeHtml(options.indexHref ?? '/reports')}">\u2190 all evaluation reports</a></p>` +
    `<h1>${escapeHtml(kindTitle(report.kind))}</h1>` +
    '<dl class="meta">' +
    `<dt>status</dt><dd>${statusHtml(report.status)}</dd>` +
    `<dt>report</dt><dd><code>${escapeHtml(report.id)}</code></dd>` +
    `<dt>model version</dt><dd>${escapeHtml(modelVersion)}</dd>` +
    `<dt>created</dt><dd>${timeHtml(report.createdAt)}</dd>` +
    `<dt>finished</dt><dd>${timeHtml(report.finishedAt)}${took ? ` (took ${escapeHtml(took)})` : ''}</dd>` +
    (isFiniteNumber(results.samplingSeconds)
      ? `<dt>sampling</dt><dd>${escapeHtml(formatNumber(results.samplingSeconds))} s</dd>`
      : '') +
    '</dl>';

  if (active) body += progressHtml(report);
  if (report.status === 'failed') {
    body +=
      '<section class="error" role="alert"><h2>Failed</h2>' +
      `<pre>${escapeHtml(report.error ?? 'No error message was recorded.')}</pre></section>`;
  }

  body += '<h2>Parameters</h2>' + parametersHtml(report.parameters);

  if (results.personalisation)
    body += personalisationHtml(results.personalisation, report.parameters?.permutations);
  if (results.distribution) body += distributionHtml(results.distribution);
  if (results.precisionRecall) body += precisionRecallHtml(results.precisionRecall);
  if (results.sweep && results.sweep.length > 0)
    body += '<h2>Guidance sweep</h2>' + settingsTable(results.sweep);
  if (results.ablations && results.ablations.length > 0)
    body += '<h2>Ablations</h2>' + settingsTable(results.ablations);
  if (results.topicPrecision) body += topicHtml(results.topicPrecision);
  if (results.oracle) body += oracleHtml(results.oracle);
  if (report.status === 'succeeded' && !hasFigures(report))
    body += '<p class="note">This report holds no figures.</p>';

  body += chartsHtml(charts);
  return page(title, body, active ? REFRESH_SECONDS : undefined);
}

function hasFigures(report: EvaluationReportView): boolean {
  const r = report.results ?? {};
  return Boolean(
    r.personalisation ||
    r.distribution ||
    r.precisionRecall ||
    r.sweep?.length ||
    r.ablations?.length ||
    r.topicPrecision ||
    r.oracle,
  );
}

/** A one-line summary of a report, for the index. */
export function reportSummary(report: EvaluationReportView): string {
  if (report.status === 'failed') {
    const error = (report.error ?? 'no error message').split('\n')[0] ?? '';
    return `failed: ${error.length > 100 ? `${error.slice(0, 99)}\u2026` : error}`;
  }
  if (report.status !== 'succeeded') {
    const p = report.progress;
    return p ? `${p.phase}: ${formatNumber(p.done, 6)} of ${formatNumber(p.total, 6)}` : report.status;
  }
  const r = report.results ?? {};
  const parts: string[] = [];
  if (r.personalisation)
    parts.push(`z = ${formatNumber(r.personalisation.z)}, p = ${formatNumber(r.personalisation.pValue)}`);
  if (r.distribution)
    parts.push(
      `Frechet ${formatNumber(r.distribution.frechetDistance)}, CMMD ${formatNumber(r.distribution.cmmd)}`,
    );
  if (r.precisionRecall)
    parts.push(
      `precision ${formatNumber(r.precisionRecall.precision)}, recall ${formatNumber(r.precisionRecall.recall)}`,
    );
  if (r.sweep?.length) parts.push(`${r.sweep.length} setting${r.sweep.length === 1 ? '' : 's'} swept`);
  if (r.ablations?.length) parts.push(`${r.ablations.length} ablation${r.ablations.length === 1 ? '' : 's'}`);
  if (r.topicPrecision) {
    parts.push(
      `content ${formatNumber(r.topicPrecision.contentPrecision)} vs random ${formatNumber(r.topicPrecision.randomContentPrecision)}`,
    );
  }
  if (r.oracle) {
    parts.push(
      `oracle ${formatNumber(r.oracle.generatedLikeRate)} vs best ${formatNumber(r.oracle.bestCatalogLikeRate)} vs random ${formatNumber(r.oracle.randomCatalogLikeRate)}`,
    );
  }
  return parts.length > 0 ? parts.join('; ') : 'no figures';
}

export interface ReportIndexOptions {
  /** Labels of model versions by id; default "#<id>". */
  modelVersionLabels?: ReadonlyMap<number, string>;
  /** Each report's link by id (signed by the gateway); default `/reports/:id`. */
  hrefs?: ReadonlyMap<string, string>;
}

/**
 * The list of reports, in the order given, each linking to `/reports/:id`; reloads itself while any
 * report is queued or running.
 */
export function reportIndexPage(reports: EvaluationReportView[], options: ReportIndexOptions = {}): string {
  const active = reports.some((r) => r.status === 'queued' || r.status === 'running');
  let body = '<h1>Evaluation reports</h1>';
  if (reports.length === 0) {
    body += '<p>No evaluation reports yet. Run one with <code>npm run cli -- evaluate</code>.</p>';
  } else {
    body +=
      '<table class="reports"><thead><tr><th scope="col">report</th><th scope="col">status</th><th scope="col">model version</th>' +
      '<th scope="col">created</th><th scope="col">finished</th><th scope="col">summary</th></tr></thead><tbody>' +
      reports
        .map((r) => {
          const href = options.hrefs?.get(r.id) ?? `/reports/${encodeURIComponent(r.id)}`;
          const version = options.modelVersionLabels?.get(r.modelVersionId) ?? `#${r.modelVersionId}`;
          return (
            `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(kindTitle(r.kind))}</a><br><code class="note">${escapeHtml(r.id)}</code></td>` +
            `<td>${statusHtml(r.status)}</td><td>${escapeHtml(version)}</td><td>${timeHtml(r.createdAt)}</td>` +
            `<td>${timeHtml(r.finishedAt)}</td><td>${escapeHtml(reportSummary(r))}</td></tr>`
          );
        })
        .join('\n') +
      '</tbody></table>';
    if (active)
      body += `<p class="note">Reports are running: this page reloads every ${INDEX_REFRESH_SECONDS} s.</p>`;
  }
  return page('Evaluation reports', body, active ? INDEX_REFRESH_SECONDS : undefined);
}
