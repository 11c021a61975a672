// The page at `/`: pick a user, see what they liked, what the gateway recommends (catalog and generated
// items, each with its score and reason), generate new items while watching the denoising live, and read
// the latest evaluation reports. Plain DOM, no framework; everything goes through the public GraphQL API
// with the API key stored in this browser (web/key.ts): from a `/#key=...` link, or pasted in the form the
// page shows when it has none or the gateway refuses it.
import './style.css';
import {
  ApiError,
  type CatalogItem,
  CANCEL,
  changeKey,
  GENERATE,
  type GenerateData,
  type GeneratedItem,
  gql,
  isForbidden,
  isUnauthenticated,
  JOB_ITEMS,
  type JobItemsData,
  type KeyRole,
  picturesQuery,
  probeAccess,
  probeSchema,
  type Progress,
  progressSubscription,
  type Rated,
  ratingsQuery,
  type RatingsData,
  type RecommendData,
  type Recommendation,
  recommendQuery,
  type Report,
  REPORTS,
  type ReportsData,
  type SchemaFeatures,
  type SettingFigures,
  subscribe,
  USER,
  type UserData,
  USERS,
  type UsersData,
} from './api.js';
import { cleanKey, KEY_FORMAT, keyLabel, storedKey, takeKeyFromFragment } from './key.js';

// ---- DOM helpers ----

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

const pct = (value: number) => `${(value * 100).toFixed(0)}%`;
const num = (value: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const when = (iso: string) => new Date(iso).toLocaleString();

function errorText(error: unknown): string {
  if (isForbidden(error)) return `Not with this API key: ${error.message} (FORBIDDEN)`;
  if (error instanceof ApiError && error.code !== undefined) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

const codeOf = (error: unknown) => (error instanceof ApiError ? error.code : undefined);

/** Same-origin and data: pictures only: the page fetches nothing from elsewhere (and its CSP says so). */
function pictureUrl(item: CatalogItem | GeneratedItem): string | undefined {
  const url = item.image?.url ?? (item.__typename === 'Item' ? item.imageUrl : null);
  if (url === null || url === undefined) return undefined;
  if (url.startsWith('data:image/') || (url.startsWith('/') && !url.startsWith('//'))) return url;
  return undefined;
}

function placeholder(label: string): HTMLElement {
  return h(
    'div',
    { class: 'picture placeholder', role: 'img', 'aria-label': `no picture: ${label}` },
    'no picture',
  );
}

function picture(item: CatalogItem | GeneratedItem, label: string): HTMLElement {
  const url = pictureUrl(item);
  if (url === undefined) return placeholder(label);
  const img = h('img', { class: 'picture', src: url, alt: label, decoding: 'async' });
  img.addEventListener('error', () => img.replaceWith(placeholder(label)), { once: true });
  return img;
}

function itemLabel(item: CatalogItem | GeneratedItem): string {
  return item.__typename === 'Item' ? (item.title ?? item.id) : `generated ${item.id.slice(0, 8)}`;
}

function scoreBar(score: number, label: string): HTMLElement {
  const fill = h('span', { class: 'fill' });
  fill.style.width = pct(Math.min(1, Math.max(0, score)));
  return h('span', { class: 'score', title: label }, h('span', { class: 'bar' }, fill), pct(score));
}

// ---- State ----

let features: SchemaFeatures = { itemImage: false };
let currentUser: string | undefined;
/** Bumped at each user change: answers for an earlier user are dropped. */
let generation = 0;
let stopWatching: (() => void) | undefined;
let watchedJob: string | undefined;
/** The watch now shown: a watch replaced by another (or by a user change) updates nothing more. */
let currentWatch: symbol | undefined;
let tab: 'user' | 'analyst' = 'user';
/** The role the stored key seems to have; undefined until the gateway took it. */
let role: KeyRole | undefined;
/** Bumped at each (re)start with a key and each refusal: answers for an earlier key are dropped. */
let session = 0;

function setStatus(message: string, kind: 'info' | 'error' = 'info', code?: string): void {
  const status = byId('status');
  status.textContent = message;
  status.className = kind;
  if (code === undefined) delete status.dataset.code;
  else status.dataset.code = code;
}

/**
 * Show an error where it happened (the status line unless `show` says where), except one that says
 * the key is missing or unknown: then the page asks for a key instead of showing data.
 */
function showError(
  error: unknown,
  show: (text: string) => void = (text) => setStatus(text, 'error', codeOf(error)),
): void {
  if (isUnauthenticated(error)) askForKey(error.message);
  else show(errorText(error));
}

// ---- The API key ----

/** Hide every answer and ask for a key; `problem` says why the gateway refused the stored one. */
function askForKey(problem?: string): void {
  session += 1;
  role = undefined;
  clearData();
  const key = storedKey();
  byId('key-problem').textContent =
    problem === undefined
      ? ''
      : // The gateway's message also tells API clients how to send a key: the form is how, here.
        `The gateway refused ${key === undefined ? 'the request' : `the key ${keyLabel(key)}`}: ${problem.replace(/: send .*$/, '')}.`;
  byId('key-panel').hidden = false;
  byId('key-status').hidden = true;
  for (const name of ['user', 'analyst'] as const) byId(`tab-${name}`).hidden = true;
  byId<HTMLInputElement>('key-input').focus();
}

/** Forget what the previous key showed: users, recommendations, a watched job, reports. */
function clearData(): void {
  generation += 1;
  currentUser = undefined;
  resetGeneration();
  byId('liked-grid').replaceChildren();
  byId('liked-title').textContent = 'Liked';
  byId('recommendations-grid').replaceChildren();
  byId('recommendations-note').textContent = '';
  byId('user-summary').textContent = '';
  const select = byId<HTMLSelectElement>('user');
  select.replaceChildren(h('option', {}, 'loading…'));
  select.disabled = true;
  byId('user-pick').hidden = false;
  byId('user-form').hidden = true;
  byId<HTMLButtonElement>('generate').disabled = true;
  byId('generate-note').textContent = '';
  byId('reports').replaceChildren();
  setStatus('');
}

/** Start (again) with the stored key: check it (and learn its role), then load the open tab and the users. */
async function load(): Promise<void> {
  session += 1;
  const mine = session;
  role = undefined;
  clearData();
  const key = storedKey();
  if (key === undefined) return askForKey();
  setStatus('Checking the API key…');
  let seen: KeyRole;
  try {
    seen = await probeAccess();
  } catch (error) {
    if (mine !== session) return;
    if (isUnauthenticated(error)) askForKey(error.message);
    else setStatus(`The gateway did not answer: ${errorText(error)}`, 'error');
    return;
  }
  if (mine !== session) return;
  role = seen;
  byId('key-panel').hidden = true;
  byId('key-problem').textContent = '';
  const status = byId('key-status');
  status.hidden = false;
  status.dataset.role = seen;
  byId('key-role').textContent = `${seen} key ${keyLabel(key)}`;
  setStatus('');
  showTab(tab);
  try {
    features = await probeSchema();
    if (mine !== session) return;
    await loadUsers(mine);
  } catch (error) {
    if (mine === session)
      showError(error, (text) => setStatus(`The gateway did not answer: ${text}`, 'error'));
  }
}

// ---- Users ----

async function loadUsers(mine: number): Promise<void> {
  const select = byId<HTMLSelectElement>('user');
  // A client key may not list users (Query.users is for analysts and admins): it names one it serves.
  if (role === 'client') return askForUserId();
  let users: UsersData['users'];
  try {
    ({ users } = await gql<UsersData>(USERS));
  } catch (error) {
    if (mine === session && isForbidden(error)) return askForUserId();
    throw error;
  }
  if (mine !== session) return;
  select.replaceChildren(
    h('option', { value: '' }, `choose one of ${users.totalCount} users`),
    ...users.edges.map(({ node }) =>
      h('option', { value: node.id }, `${node.id} · ${node.ratingCount} ratings, ${node.likedCount} liked`),
    ),
  );
  select.disabled = false;
  const wanted = userFromHash();
  const first = users.edges[0]?.node.id;
  const pick = users.edges.some(({ node }) => node.id === wanted) ? wanted : first;
  if (pick !== undefined) {
    select.value = pick;
    await selectUser(pick);
  } else {
    setStatus('The catalog has no users yet: create some with createUser and rateItem.');
  }
}

/** Instead of the list of users: a field for the id of one (the fragment's, if it names one, is shown). */
async function askForUserId(): Promise<void> {
  byId('user-pick').hidden = true;
  byId('user-form').hidden = false;
  const wanted = userFromHash();
  if (wanted !== undefined) {
    byId<HTMLInputElement>('user-id').value = wanted;
    await selectUser(wanted);
  } else {
    setStatus('This key may not list the users (a client key): type the id of a user it serves.');
  }
}

function userFromHash(): string | undefined {
  const match = /^#user=(.+)$/.exec(window.location.hash);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

async function selectUser(user: string): Promise<void> {
  currentUser = user;
  generation += 1;
  const mine = generation;
  if (tab === 'user') history.replaceState(null, '', `#user=${encodeURIComponent(user)}`);
  byId('liked-grid').replaceChildren();
  byId('recommendations-grid').replaceChildren();
  byId('recommendations-note').textContent = '';
  resetGeneration();
  setStatus(`Loading ${user}…`);
  try {
    const [{ user: info }] = await Promise.all([
      gql<UserData>(USER, { user }),
      loadRecommendations(user, mine),
      loadLiked(user, mine),
    ]);
    if (mine !== generation) return;
    if (info === null) throw new ApiError(`no user ${user}`);
    byId('user-summary').textContent = `${info.ratingCount} ratings, ${info.likedCount} liked`;
    const button = byId<HTMLButtonElement>('generate');
    // generate is for client and admin keys (ACCESS_TABLE): an analyst's key reads, it does not generate.
    const mayGenerate = role !== 'analyst';
    button.disabled = !mayGenerate || !info.generation.available;
    byId('generate-note').textContent = !mayGenerate
      ? 'An analyst key does not generate: that takes a client or admin key.'
      : info.generation.available
        ? ''
        : (info.generation.message ?? `cannot generate (${info.generation.reason ?? 'unknown'})`);
    setStatus('');
  } catch (error) {
    if (mine === generation) showError(error);
  }
}

// ---- Liked items ----

const LIKED_SHOWN = 12;

async function loadLiked(user: string, mine: number): Promise<void> {
  const liked: Rated[] = [];
  let after: string | null = null;
  // Ratings come oldest first, 500 a page; the page keeps the likes (score >= 4), at most 20 pages.
  for (let page = 0; page < 20; page += 1) {
    const data: RatingsData = await gql<RatingsData>(ratingsQuery(features), { user, after });
    if (mine !== generation || data.user === null) return;
    liked.push(...data.user.ratings.edges.map((edge) => edge.node).filter((rating) => rating.score >= 4));
    if (!data.user.ratings.pageInfo.hasNextPage) break;
    after = data.user.ratings.pageInfo.endCursor;
  }
  liked.sort((a, b) => b.score - a.score || b.updatedAt.localeCompare(a.updatedAt));
  const shown = liked.slice(0, LIKED_SHOWN);
  if (features.itemImage && shown.length > 0) {
    // Pictures for the few shown only (a whole ratings page with pictures would be heavy).
    const variables = Object.fromEntries(shown.map((rating, i) => [`i${i}`, rating.item.id]));
    const pictures = await gql<Record<string, { id: string; image: { url: string } | null } | null>>(
      picturesQuery(shown.length),
      variables,
    );
    shown.forEach((rating, i) => {
      rating.item.image = pictures[`i${i}`]?.image ?? null;
    });
  }
  if (mine !== generation) return;
  byId('liked-title').textContent = `Liked (${liked.length})`;
  byId('liked-grid').replaceChildren(
    ...shown.map((rating) =>
      h(
        'figure',
        { class: 'card small', 'data-item': rating.item.id },
        picture(rating.item, itemLabel(rating.item)),
        h(
          'figcaption',
          {},
          h('strong', {}, itemLabel(rating.item)),
          h('span', { class: 'stars' }, `rated ${rating.score}/5`),
        ),
      ),
    ),
    ...(liked.length > shown.length
      ? [h('p', { class: 'more' }, `and ${liked.length - shown.length} more liked items`)]
      : []),
  );
  if (liked.length === 0) byId('liked-grid').append(h('p', { class: 'more' }, 'No liked items yet.'));
}

// ---- Recommendations ----

const REASONS: Record<Recommendation['reason'], string> = {
  CATALOG_BY_VERIFIER: 'catalog item, ranked by the verifier',
  GENERATED_ABOVE_CATALOG: 'generated, clearly preferred to the catalog item it replaced',
  MOST_LIKED: 'one of the most liked items (no model)',
};

const FALLBACKS: Record<string, string> = {
  NO_MODEL: 'No model is serving: these are the most liked items, scored by their like share.',
  NO_RATINGS: 'This user has no ratings: the average user’s taste ranks these.',
};

/** Refill jobs the gateway started for a user: followed once, then the list is read again. */
const followedRefills = new Set<string>();

async function loadRecommendations(user: string, mine: number): Promise<void> {
  const { recommend } = await gql<RecommendData>(recommendQuery(features), { user, first: 12 });
  if (mine !== generation) return;
  const note = byId('recommendations-note');
  const notes: string[] = [];
  if (recommend.fallback !== null) notes.push(FALLBACKS[recommend.fallback] ?? recommend.fallback);
  if (recommend.modelVersion !== null)
    notes.push(`Model ${recommend.modelVersion.preset} (${recommend.modelVersion.id.slice(0, 8)}).`);
  const generated = recommend.items.filter((entry) => entry.source === 'GENERATED').length;
  notes.push(`${recommend.items.length} entries, ${generated} generated.`);
  if (generated === 0 && recommend.fallback === null) {
    notes.push(
      'A generated item takes a place only where the verifier clearly prefers it to the catalog item it would replace.',
    );
  }
  const pending = recommend.pendingGeneration;
  if (pending !== null) {
    notes.push(
      `No generated item was ready: the gateway started job ${pending.id.slice(0, 8)} to make some.`,
    );
    if (!followedRefills.has(pending.id) && watchedJob === undefined) {
      followedRefills.add(pending.id);
      watchJob(pending.id, 'refill');
    }
  }
  note.textContent = notes.join(' ');
  byId('recommendations-grid').replaceChildren(...recommend.items.map(recommendationCard));
}

function recommendationCard(entry: Recommendation): HTMLElement {
  const label = itemLabel(entry.item);
  return h(
    'figure',
    { class: `card ${entry.source.toLowerCase()}`, 'data-source': entry.source, 'data-item': entry.item.id },
    picture(entry.item, label),
    h(
      'figcaption',
      {},
      h('span', { class: 'rank' }, `#${entry.rank}`),
      h('strong', {}, label),
      scoreBar(entry.score, 'the verifier’s like-probability for this user'),
      h('span', { class: `badge ${entry.source.toLowerCase()}` }, REASONS[entry.reason] ?? entry.reason),
      h('small', { class: 'explanation' }, entry.explanation),
    ),
  );
}

// ---- Generation ----

function resetGeneration(): void {
  stopWatching?.();
  stopWatching = undefined;
  watchedJob = undefined;
  currentWatch = undefined;
  byId('progress-panel').hidden = true;
  byId('generated-grid').replaceChildren();
  byId<HTMLButtonElement>('cancel').hidden = true;
}

async function startGeneration(): Promise<void> {
  if (currentUser === undefined) return;
  const [sampler, steps] = byId<HTMLSelectElement>('sampler').value.split(':') as [string, string];
  const count = Number(byId<HTMLSelectElement>('count').value);
  const button = byId<HTMLButtonElement>('generate');
  button.disabled = true;
  try {
    const { generate } = await gql<GenerateData>(GENERATE, {
      user: currentUser,
      count,
      sampler,
      steps: Number(steps),
    });
    watchJob(generate.id, 'generate');
  } catch (error) {
    showError(error);
    button.disabled = false;
  }
}

function watchJob(job: string, why: 'generate' | 'refill'): void {
  stopWatching?.();
  watchedJob = job;
  const token = Symbol(job);
  currentWatch = token;
  const mine = generation;
  const user = currentUser;
  const panel = byId('progress-panel');
  const bar = byId('progress');
  const fill = byId('progress-fill');
  const text = byId('progress-text');
  const preview = byId('preview');
  const cancel = byId<HTMLButtonElement>('cancel');
  panel.hidden = false;
  bar.dataset.job = job;
  bar.dataset.why = why;
  byId('generated-grid').replaceChildren();
  byId('progress-title').textContent =
    why === 'refill'
      ? `Job ${job.slice(0, 8)} (started by recommend to refill the pool)`
      : `Job ${job.slice(0, 8)}`;
  cancel.hidden = false;
  cancel.disabled = false;
  cancel.onclick = () => {
    cancel.disabled = true;
    gql(CANCEL, { job }).catch((error: unknown) => showError(error));
  };
  let events = 0;
  const steps = new Set<number>();
  let previewId: string | undefined;
  const render = (event: Progress) => {
    const done = event.status === 'SUCCEEDED' ? 1 : event.totalSteps > 0 ? event.step / event.totalSteps : 0;
    const percent = Math.round(done * 100);
    fill.style.width = `${percent}%`;
    bar.setAttribute('aria-valuenow', String(percent));
    bar.dataset.events = String(events);
    bar.dataset.steps = String(steps.size);
    bar.dataset.status = event.status;
    const parts = [
      `${event.status.toLowerCase()}`,
      `step ${event.step} / ${event.totalSteps}`,
      `${percent}%`,
    ];
    if (event.etaMs !== null && event.status === 'RUNNING') parts.push(`${seconds(event.etaMs)} left`);
    if (event.previewScore !== null) parts.push(`preview score ${pct(event.previewScore)}`);
    if (event.errorCode !== null) parts.push(event.errorCode);
    text.textContent = parts.join(' · ');
    const nearest = event.previewNearest;
    if (nearest !== null && nearest.id !== previewId) {
      previewId = nearest.id;
      preview.dataset.item = nearest.id;
      preview.replaceChildren(
        picture(nearest, itemLabel(nearest)),
        h(
          'figcaption',
          {},
          'Nearest catalog item to the current estimate: ',
          h('strong', {}, itemLabel(nearest)),
        ),
      );
    }
  };
  const finish = async (event: Progress) => {
    if (currentWatch !== token) return;
    cancel.hidden = true;
    stopWatching = undefined;
    watchedJob = undefined;
    if (why === 'generate') byId<HTMLButtonElement>('generate').disabled = false;
    if (event.status !== 'SUCCEEDED') {
      setStatus(
        `Job ${job.slice(0, 8)} ended ${event.status}${event.errorCode ? ` (${event.errorCode})` : ''}.`,
        'error',
      );
      return;
    }
    const { generationJob } = await gql<JobItemsData>(JOB_ITEMS, { job });
    if (currentWatch !== token || generationJob === null) return;
    byId('generated-grid').replaceChildren(
      ...generationJob.items.map((item) =>
        h(
          'figure',
          { class: 'card generated', 'data-item': item.id },
          picture(item, itemLabel(item)),
          h(
            'figcaption',
            {},
            h('strong', {}, `#${item.position + 1}`),
            scoreBar(item.verifierScore, 'the verifier’s like-probability when generated'),
          ),
        ),
      ),
    );
    // Finished items join the user's pool: the ranked answer may now include some.
    if (user !== undefined) await loadRecommendations(user, mine);
  };
  stopWatching = subscribe<{ generationProgress: Progress }>(
    progressSubscription(features),
    { job },
    {
      next: ({ generationProgress: event }) => {
        if (currentWatch !== token) return;
        events += 1;
        if (event.status === 'RUNNING' && event.step > 0) steps.add(event.step);
        render(event);
        if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(event.status)) {
          finish(event).catch((error: unknown) => showError(error));
        }
      },
      error: (error) => {
        if (currentWatch === token) showError(error);
      },
      complete: () => undefined,
    },
  );
}

// ---- Analyst: evaluation reports ----

function figures(pairs: [string, string][]): HTMLElement {
  return h(
    'dl',
    { class: 'figures' },
    ...pairs.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );
}

function settingsTable(rows: SettingFigures[]): HTMLElement {
  const header = [
    'setting',
    'w',
    'verifier scale',
    'verifier score',
    'oracle like-rate',
    'diversity',
    'in range',
    'z',
  ];
  return h(
    'table',
    { class: 'settings' },
    h('thead', {}, h('tr', {}, ...header.map((name) => h('th', {}, name)))),
    h(
      'tbody',
      {},
      ...rows.map((row) =>
        h(
          'tr',
          {},
          ...[
            row.label,
            num(row.guidanceScale, 1),
            num(row.verifierScale, 2),
            pct(row.verifierScore),
            row.oracleLikeRate === null ? '–' : pct(row.oracleLikeRate),
            num(row.diversity),
            pct(row.inRange),
            num(row.z, 1),
          ].map((cell) => h('td', {}, cell)),
        ),
      ),
    ),
  );
}

function reportCard(report: Report): HTMLElement {
  const parts: Child[] = [];
  const p = report.personalisation;
  if (p !== null) {
    parts.push(
      figures([
        ['statistic', num(p.statistic)],
        ['null mean ± sd', `${num(p.permutationMean)} ± ${num(p.permutationStd)}`],
        ['z', num(p.z, 1)],
        ['p', p.pValue.toPrecision(2)],
        ['users × samples', `${p.users} × ${p.samplesPerUser}`],
      ]),
    );
  }
  const d = report.distribution;
  if (d !== null) {
    parts.push(
      figures([
        ['Fréchet distance', num(d.frechetDistance)],
        ['CMMD', num(d.cmmd)],
        ['generated / reference', `${d.generated} / ${d.reference}`],
      ]),
    );
  }
  const pr = report.precisionRecall;
  if (pr !== null)
    parts.push(
      figures([
        [`precision@${pr.k}`, pct(pr.precision)],
        [`recall@${pr.k}`, pct(pr.recall)],
      ]),
    );
  const t = report.topicPrecision;
  if (t !== null) {
    parts.push(
      figures([
        ['content precision', `${pct(t.contentPrecision)} (random ${pct(t.randomContentPrecision)})`],
        ['style precision', `${pct(t.stylePrecision)} (random ${pct(t.randomStylePrecision)})`],
      ]),
    );
  }
  const o = report.oracle;
  if (o !== null) {
    parts.push(
      figures([
        ['oracle: generated liked', pct(o.generatedLikeRate)],
        ['their 10 best catalog items', pct(o.bestCatalogLikeRate)],
        ['random catalog items', pct(o.randomCatalogLikeRate)],
      ]),
    );
  }
  if (report.sweep !== null && report.sweep.length > 0) parts.push(settingsTable(report.sweep));
  if (report.ablations !== null && report.ablations.length > 0) parts.push(settingsTable(report.ablations));
  if (report.error !== null) parts.push(h('p', { class: 'error' }, report.error));
  if (report.progress !== null) {
    parts.push(h('p', {}, `${report.progress.phase}: ${report.progress.done} / ${report.progress.total}`));
  }
  const params = report.parameters;
  return h(
    'article',
    { class: 'report', 'data-report': report.id, 'data-status': report.status },
    h(
      'header',
      {},
      h('h3', {}, `${report.kind.toLowerCase().replace(/_/g, ' ')} · ${report.status.toLowerCase()}`),
      h('a', { href: report.pageUrl }, 'report page'),
    ),
    h(
      'p',
      { class: 'meta' },
      `${when(report.createdAt)} · model ${report.modelVersionId.slice(0, 8)} · ${params.sampler} ${params.steps} steps, w ${num(params.guidanceScale, 1)}, ${params.samplesPerUser} samples a user` +
        (report.samplingSeconds === null ? '' : ` · sampled in ${report.samplingSeconds.toFixed(1)} s`),
    ),
    ...parts,
    h(
      'div',
      { class: 'charts' },
      ...report.charts.map((chart) =>
        h(
          'figure',
          {},
          h('img', { src: chart.url, alt: chart.title, loading: 'lazy' }),
          h('figcaption', {}, chart.title),
        ),
      ),
    ),
  );
}

async function loadReports(): Promise<void> {
  const mine = session;
  const list = byId('reports');
  list.replaceChildren(h('p', {}, 'Loading…'));
  try {
    const { evaluationReports } = await gql<ReportsData>(REPORTS);
    if (mine !== session) return;
    list.replaceChildren(
      ...(evaluationReports.length === 0
        ? [
            h(
              'p',
              {},
              'No evaluation reports yet. Start one with the runEvaluation mutation (in GraphiQL) or ',
              h('code', {}, 'npm run cli -- evaluate --gateway http://localhost:4000/graphql'),
              '.',
            ),
          ]
        : evaluationReports.map(reportCard)),
    );
  } catch (error) {
    // A client key may not read reports (FORBIDDEN): the gateway's reason, in place of the reports.
    if (mine !== session) return;
    showError(error, (text) =>
      list.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-code': codeOf(error) }, text)),
    );
  }
}

// ---- Tabs and start ----

function showTab(next: 'user' | 'analyst'): void {
  tab = next;
  // While the page asks for a key, neither tab shows.
  const asking = !byId('key-panel').hidden;
  for (const name of ['user', 'analyst'] as const) {
    byId(`tab-${name}`).hidden = asking || name !== tab;
    byId(`tab-button-${name}`).setAttribute('aria-selected', String(name === tab));
  }
  if (tab === 'analyst') {
    history.replaceState(null, '', '#analyst');
    if (role !== undefined) void loadReports();
  } else if (currentUser !== undefined) {
    history.replaceState(null, '', `#user=${encodeURIComponent(currentUser)}`);
  }
}

function start(): void {
  // First of all: a key handed over in the link leaves the address bar (and this history entry).
  const handed = takeKeyFromFragment();
  if (handed !== undefined) changeKey(handed);
  byId('tab-button-user').addEventListener('click', () => showTab('user'));
  byId('tab-button-analyst').addEventListener('click', () => showTab('analyst'));
  byId('reports-refresh').addEventListener('click', () => void loadReports());
  byId<HTMLSelectElement>('user').addEventListener('change', (event) => {
    const value = (event.target as HTMLSelectElement).value;
    if (value !== '') void selectUser(value);
  });
  byId('user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const user = byId<HTMLInputElement>('user-id').value.trim();
    if (user !== '') void selectUser(user);
  });
  byId('generate').addEventListener('click', () => void startGeneration());
  byId('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('key-input');
    const key = cleanKey(input.value);
    if (!KEY_FORMAT.test(key)) {
      byId('key-problem').textContent =
        'That is not an API key: keys are rbk_ and 43 letters, digits, - or _ (as the gateway printed it).';
      return;
    }
    input.value = '';
    changeKey(key);
    void load();
  });
  byId('forget-key').addEventListener('click', () => {
    changeKey(undefined);
    askForKey();
  });
  // The printed link opened in a tab already showing the page changes only the fragment: take the key
  // all the same, and start again with it.
  window.addEventListener('hashchange', () => {
    const key = takeKeyFromFragment();
    if (key !== undefined) {
      changeKey(key);
      void load();
    }
  });
  showTab(window.location.hash === '#analyst' ? 'analyst' : 'user');
  void load();
}

start();
