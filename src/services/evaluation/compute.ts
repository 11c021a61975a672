import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cmmdAgainst,
  cmmdReference,
  type CmmdReference,
  frechetDistance,
  histogram,
  meanPairwiseCosineDistance,
  outOfRange,
  permutationTest,
  precisionRecallAtK,
  sampleToEnd,
  selectDiverse,
  standardizeRows,
  type UserCondition,
  type UserFactors,
  verifierGuidanceHook,
} from '../../ml/index.js';
import { sigmoid } from '../../lib/sigmoid.js';
import {
  ATTRIBUTES,
  attributePosteriors,
  decodeEmbedding,
  likeLogitFromPosteriors,
  likeProbability,
  type World,
} from '../../world/index.js';
import { type ActiveModel } from '../model-runtime.js';
import { samplingDefaults } from '../generation/sampling-defaults.js';
import {
  type DistributionFigures,
  type EvaluationKind,
  type EvaluationParameters,
  type EvaluationProgress,
  type EvaluationResults,
  type OracleFigures,
  type PersonalisationFigures,
  type PrecisionRecallFigures,
  type SettingFigures,
  type TopicFigures,
  type UserFigure,
} from './report.js';

/**
 * Let the event loop run: evaluations compute in the gateway's process, so their loops give way after
 * each user (a slice is one user's scans, milliseconds to tens of them) and never stall requests.
 */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What an evaluation reads besides the model: the world's oracle, users' likes, progress, abort. */
export interface EvaluationInputs {
  active: ActiveModel;
  /** The taste world the data came from (IMAGE_DECODER=world:...), for the oracle's view; else null. */
  world: World | null;
  /** Catalog items each user liked (all their ratings), by external id. */
  likedItems: (users: readonly string[]) => Promise<Map<string, string[]>>;
  onProgress: (progress: EvaluationProgress) => void;
  signal?: AbortSignal;
}

/** A user the prior and the verifier both know. */
interface EvalUser {
  id: string;
  factors: UserFactors;
  condition: UserCondition;
}

/** How embeddings are drawn for one setting of a sweep or an ablation. */
interface Setting {
  label: string;
  guidanceScale: number;
  verifierScale: number;
  candidates: number;
  /** Condition on the user (the product), or on nobody. */
  conditioned: boolean;
  clip: boolean;
}

/** n embeddings per user, drawn and kept as a generation job keeps them. */
interface Drawn {
  /** [U * n, D], user u's rows at u * n. */
  samples: Float32Array;
  owner: Int32Array;
  /** Samples per user. */
  perUser: number;
  /** Share of all drawn candidates inside the catalog's range. */
  inRange: number;
}

/** Held-out rows of the evaluated users (the artifact's test split) with their embeddings. */
interface HeldOut {
  embeddings: Float32Array;
  owners: Int32Array;
  liked: Uint8Array;
  /** Rows that are likes, for FD and CMMD: [count, D]. */
  likedEmbeddings: Float32Array;
  likedOwners: Int32Array;
}

/** Catalog embedding rows by item id (the served catalog). */
function catalogRows(active: ActiveModel): {
  embedding: (id: string) => Float32Array | undefined;
  all: Float32Array;
  size: number;
} {
  const index = active.index;
  if (index === null) throw new Error('the catalog is empty or has another width than the model');
  const D = active.model.embeddingDim;
  const E = index.catalog.embeddings;
  return {
    embedding: (id) => {
      const row = index.rowOf(id);
      return row === undefined ? undefined : E.subarray(row * D, (row + 1) * D);
    },
    all: E,
    size: index.size,
  };
}

export function evaluationUsers(active: ActiveModel, maxUsers: number): EvalUser[] {
  const { model } = active;
  const users = model.manifest.users.flatMap((id) => {
    const row = model.verifier.userRow(id);
    if (row === undefined) return [];
    const factors = model.verifier.userFactors(row);
    const condition = model.userCondition(id, factors);
    return condition === undefined ? [] : [{ id, factors, condition }];
  });
  return maxUsers > 0 ? users.slice(0, maxUsers) : users;
}

async function readHeldOut(active: ActiveModel, users: EvalUser[]): Promise<HeldOut> {
  let text: string;
  try {
    text = await readFile(join(active.model.dir, 'splits.json'), 'utf8');
  } catch {
    throw new Error(
      `the model artifact has no splits.json (held-out ratings): train it again to evaluate this`,
    );
  }
  const splits = JSON.parse(text) as { test?: { user: string; item: string; like: number }[] };
  const catalog = catalogRows(active);
  const D = active.model.embeddingDim;
  const index = new Map(users.map((user, u) => [user.id, u]));
  const rows = (splits.test ?? []).flatMap((row) => {
    const u = index.get(row.user);
    const embedding = catalog.embedding(row.item);
    return u === undefined || embedding === undefined ? [] : [{ u, embedding, liked: row.like === 1 }];
  });
  if (rows.length === 0) throw new Error('no held-out ratings of the evaluated users are in the catalog');
  const embeddings = new Float32Array(rows.length * D);
  rows.forEach((row, i) => embeddings.set(row.embedding, i * D));
  const likedRows = rows.filter((row) => row.liked);
  const likedEmbeddings = new Float32Array(likedRows.length * D);
  likedRows.forEach((row, i) => likedEmbeddings.set(row.embedding, i * D));
  return {
    embeddings,
    owners: Int32Array.from(rows, (row) => row.u),
    liked: Uint8Array.from(rows, (row) => (row.liked ? 1 : 0)),
    likedEmbeddings,
    likedOwners: Int32Array.from(likedRows, (row) => row.u),
  };
}

/** Draw n embeddings per user for one setting, keeping the best of the candidates in the range. */
async function draw(
  inputs: EvaluationInputs,
  users: EvalUser[],
  setting: Setting,
  params: EvaluationParameters,
  phase: string,
): Promise<Drawn> {
  const { active } = inputs;
  const { model, range } = active;
  const D = model.embeddingDim;
  const n = params.samplesPerUser;
  const samples = new Float32Array(users.length * n * D);
  let inside = 0;
  let total = 0;
  for (let u = 0; u < users.length; u += 1) {
    inputs.signal?.throwIfAborted();
    const user = users[u]!;
    const drawn = n * setting.candidates;
    const raw = await sampleToEnd(model, {
      user: setting.conditioned ? user.condition : { kind: 'none' },
      rating: 'like',
      count: drawn,
      method: params.sampler,
      ...(params.sampler === 'ddim' ? { steps: params.steps } : {}),
      guidanceScale: setting.guidanceScale,
      seed: params.seed + u,
      clip: setting.clip,
      denoiser: active.denoiser,
      ...(inputs.signal === undefined ? {} : { signal: inputs.signal }),
      ...(setting.verifierScale > 0
        ? {
            guide: verifierGuidanceHook(
              model.verifier,
              user.factors,
              model.standardization,
              setting.verifierScale,
            ),
          }
        : {}),
    });
    const scores = new Float64Array(drawn);
    for (let i = 0; i < drawn; i += 1) {
      const embedding = raw.subarray(i * D, (i + 1) * D);
      const ok = range === null || outOfRange(embedding, range, model.standardization) === null;
      if (ok) inside += 1;
      scores[i] = model.verifier.probability(user.factors, embedding) - (ok ? 0 : 1);
    }
    total += drawn;
    // As a job keeps them: the best by the verifier, in range first, no two too alike.
    const picked =
      setting.candidates === 1
        ? Array.from({ length: n }, (_, i) => i)
        : selectDiverse(
            scores,
            standardizeRows(raw, model.standardization),
            D,
            n,
            samplingDefaults(model).maxCosine,
          );
    picked.forEach((i, k) => samples.set(raw.subarray(i * D, (i + 1) * D), (u * n + k) * D));
    inputs.onProgress({ phase: `${phase}: sampling`, done: u + 1, total: users.length });
  }
  return {
    samples,
    owner: Int32Array.from({ length: users.length * n }, (_, i) => Math.floor(i / n)),
    perUser: n,
    inRange: total === 0 ? 0 : inside / total,
  };
}

/** scores[s * U + v]: the verifier's P(user v likes sample s). */
async function verifierMatrix(active: ActiveModel, users: EvalUser[], drawn: Drawn): Promise<Float64Array> {
  const D = active.model.embeddingDim;
  const S = drawn.owner.length;
  const U = users.length;
  const scores = new Float64Array(S * U);
  for (let s = 0; s < S; s += 1) {
    if (s % 64 === 0) await yieldToLoop();
    const embedding = drawn.samples.subarray(s * D, (s + 1) * D);
    for (let v = 0; v < U; v += 1)
      scores[s * U + v] = active.model.verifier.probability(users[v]!.factors, embedding);
  }
  return scores;
}

function personalisationFigures(
  users: EvalUser[],
  n: number,
  scores: Float64Array,
  owner: Int32Array,
  permutations: number,
  seed: number,
): PersonalisationFigures {
  const test = permutationTest(scores, owner, users.length, permutations, seed ^ 0x5eed);
  return {
    users: users.length,
    samplesPerUser: n,
    statistic: test.statistic,
    permutationMean: test.permutationMean,
    permutationStd: test.permutationStd,
    z: test.z,
    pValue: test.pValue,
    ownVsOthersGap: test.ownVsOthersGap,
    null: histogram(test.nulls, 40),
  };
}

/** User u's samples: drawn user by user, n rows each, so a slice. */
function samplesOf(drawn: Drawn, u: number, D: number): { rows: Float32Array; n: number } {
  const n = drawn.perUser;
  return { rows: drawn.samples.subarray(u * n * D, (u + 1) * n * D), n };
}

/** Rows of `matrix` ([n, D]) whose owner is u. */
function rowsOf(
  matrix: Float32Array,
  owners: Int32Array,
  u: number,
  D: number,
): { rows: Float32Array; n: number } {
  const picked: number[] = [];
  owners.forEach((owner, i) => {
    if (owner === u) picked.push(i);
  });
  const rows = new Float32Array(picked.length * D);
  picked.forEach((i, k) => rows.set(matrix.subarray(i * D, (i + 1) * D), k * D));
  return { rows, n: picked.length };
}

async function distributionFigures(
  users: EvalUser[],
  drawn: Drawn,
  heldOut: HeldOut,
  reference: CmmdReference,
  D: number,
): Promise<DistributionFigures> {
  const S = drawn.owner.length;
  const R = heldOut.likedOwners.length;
  const perUserFrechet: UserFigure[] = [];
  const perUserCmmd: UserFigure[] = [];
  for (const [u, user] of users.entries()) {
    await yieldToLoop();
    const mine = samplesOf(drawn, u, D);
    const theirs = rowsOf(heldOut.likedEmbeddings, heldOut.likedOwners, u, D);
    if (theirs.n < 2 || mine.n < 2) continue;
    perUserFrechet.push({
      user: user.id,
      value: frechetDistance(mine.rows, mine.n, theirs.rows, theirs.n, D),
    });
    perUserCmmd.push({
      user: user.id,
      value: cmmdAgainst(cmmdReference(theirs.rows, theirs.n, D), mine.rows, mine.n),
    });
  }
  await yieldToLoop();
  return {
    generated: S,
    reference: R,
    frechetDistance: frechetDistance(drawn.samples, S, heldOut.likedEmbeddings, R, D),
    cmmd: cmmdAgainst(reference, drawn.samples, S),
    perUserFrechet,
    perUserCmmd,
  };
}

function precisionRecallFigures(
  users: EvalUser[],
  drawn: Drawn,
  heldOut: HeldOut,
  n: number,
): PrecisionRecallFigures {
  const result = precisionRecallAtK(drawn.samples, drawn.owner.length, drawn.owner, heldOut, users.length);
  const perUser = (values: ArrayLike<number>): UserFigure[] =>
    users.flatMap((user, u) =>
      Number.isFinite(values[u]) ? [{ user: user.id, value: values[u] as number }] : [],
    );
  return {
    k: n,
    precision: result.precision,
    recall: result.recall,
    perUserPrecision: perUser(result.perUserPrecision),
    perUserRecall: perUser(result.perUserRecall),
  };
}

/** Mean pairwise cosine distance within each user's samples, averaged over users. */
function diversity(drawn: Drawn, users: number, D: number): number {
  let sum = 0;
  for (let u = 0; u < users; u += 1) {
    const mine = samplesOf(drawn, u, D);
    sum += meanPairwiseCosineDistance(mine.rows, mine.n, D);
  }
  return users === 0 ? 0 : sum / users;
}

async function oracleLikeRate(
  world: World,
  users: EvalUser[],
  drawn: Drawn,
  D: number,
): Promise<number | null> {
  let sum = 0;
  let count = 0;
  for (const [s, u] of drawn.owner.entries()) {
    if (s % 64 === 0) await yieldToLoop();
    const id = users[u]!.id;
    if (!world.userIndex.has(id)) continue;
    sum += likeProbability(world, id, drawn.samples.subarray(s * D, (s + 1) * D));
    count += 1;
  }
  return count === 0 ? null : sum / count;
}

/** Generated items against each user's 10 best catalog items and random ones, by the oracle. */
async function oracleFigures(
  world: World,
  active: ActiveModel,
  users: EvalUser[],
  drawn: Drawn,
  seed: number,
): Promise<OracleFigures | null> {
  const D = active.model.embeddingDim;
  if (world.dim !== D) return null;
  const generated = await oracleLikeRate(world, users, drawn, D);
  if (generated === null) return null;
  const catalog = catalogRows(active);
  // The oracle over a sample of the catalog (up to 2,000 items) per user: its best 10 and its mean.
  const sampleSize = Math.min(catalog.size, 2000);
  const step = catalog.size / sampleSize;
  const rows = Array.from({ length: sampleSize }, (_, i) =>
    Math.floor((i * step + (seed % 7)) % catalog.size),
  );
  // An item's attribute posteriors do not depend on the user: once per item, then a dot per user.
  const posteriors: Float64Array[] = [];
  for (const [i, row] of rows.entries()) {
    if (i % 100 === 0) await yieldToLoop();
    posteriors.push(
      attributePosteriors(world.space, world.temperature, catalog.all.subarray(row * D, (row + 1) * D)),
    );
  }
  let best = 0;
  let random = 0;
  let counted = 0;
  for (const user of users) {
    await yieldToLoop();
    const index = world.userIndex.get(user.id);
    if (index === undefined) continue;
    const probabilities = posteriors.map((item) => sigmoid(likeLogitFromPosteriors(world, index, item)));
    probabilities.sort((a, b) => b - a);
    const top = probabilities.slice(0, 10);
    best += top.reduce((a, b) => a + b, 0) / top.length;
    random += probabilities.reduce((a, b) => a + b, 0) / probabilities.length;
    counted += 1;
  }
  return {
    generatedLikeRate: generated,
    bestCatalogLikeRate: best / counted,
    randomCatalogLikeRate: random / counted,
  };
}

const CONTENT = ['subject', 'composition'];
const STYLE = ['palette', 'texture', 'lighting'];

async function topicFigures(
  inputs: EvaluationInputs,
  world: World,
  users: EvalUser[],
  drawn: Drawn,
): Promise<TopicFigures> {
  const { active } = inputs;
  const D = active.model.embeddingDim;
  if (world.dim !== D) throw new Error(`the taste world has D = ${world.dim}, the model ${D}`);
  const catalog = catalogRows(active);
  const liked = await inputs.likedItems(users.map((user) => user.id));
  const names = ATTRIBUTES.map((attribute) => attribute.name);
  const codesOf = (embedding: Float32Array) => decodeEmbedding(world, embedding).codes;
  // Items liked by several users are decoded once.
  const itemCodes = new Map<string, number[] | null>();
  const codesOfItem = (item: string): number[] | null => {
    let codes = itemCodes.get(item);
    if (codes === undefined) {
      const embedding = catalog.embedding(item);
      codes = embedding === undefined ? null : codesOf(embedding);
      itemCodes.set(item, codes);
    }
    return codes;
  };
  const within = (codes: number[], allowed: Set<string>[], group: string[]) =>
    group.every((name) => allowed[names.indexOf(name)]!.has(String(codes[names.indexOf(name)])));
  const perUserContent: UserFigure[] = [];
  const perUserStyle: UserFigure[] = [];
  let content = 0;
  let style = 0;
  let randomContent = 0;
  let randomStyle = 0;
  let counted = 0;
  // The catalog's share of each attribute value (a spread sample of up to 2,000 items).
  const sampleSize = Math.min(catalog.size, 2000);
  const catalogShare = names.map((_, a) => new Float64Array(ATTRIBUTES[a]!.values.length));
  for (let i = 0; i < sampleSize; i += 1) {
    if (i % 100 === 0) await yieldToLoop();
    const row = Math.floor((i * catalog.size) / sampleSize);
    codesOf(catalog.all.subarray(row * D, (row + 1) * D)).forEach((code, a) => {
      catalogShare[a]![code]! += 1 / sampleSize;
    });
  }
  for (const [u, user] of users.entries()) {
    await yieldToLoop();
    // A user's topics: the attribute values more common among their likes than in the catalog.
    const counts = names.map((_, a) => new Float64Array(ATTRIBUTES[a]!.values.length));
    let likedCount = 0;
    for (const item of liked.get(user.id) ?? []) {
      const codes = codesOfItem(item);
      if (codes === null) continue;
      codes.forEach((code, a) => (counts[a]![code]! += 1));
      likedCount += 1;
    }
    const allowed = names.map((_, a) => {
      const values = new Set<string>();
      counts[a]!.forEach((count, code) => {
        if (likedCount > 0 && count / likedCount > catalogShare[a]![code]!) values.add(String(code));
      });
      return values;
    });
    if (likedCount === 0) continue;
    const mine = samplesOf(drawn, u, D);
    let c = 0;
    let s = 0;
    for (let i = 0; i < mine.n; i += 1) {
      const codes = codesOf(mine.rows.subarray(i * D, (i + 1) * D));
      if (within(codes, allowed, CONTENT)) c += 1;
      if (within(codes, allowed, STYLE)) s += 1;
    }
    // Baseline: as many catalog items, spread over the catalog.
    let rc = 0;
    let rs = 0;
    for (let i = 0; i < mine.n; i += 1) {
      const row = Math.floor(((i + 0.5) * catalog.size) / mine.n + u) % catalog.size;
      const codes = codesOf(catalog.all.subarray(row * D, (row + 1) * D));
      if (within(codes, allowed, CONTENT)) rc += 1;
      if (within(codes, allowed, STYLE)) rs += 1;
    }
    perUserContent.push({ user: user.id, value: c / mine.n });
    perUserStyle.push({ user: user.id, value: s / mine.n });
    content += c / mine.n;
    style += s / mine.n;
    randomContent += rc / mine.n;
    randomStyle += rs / mine.n;
    counted += 1;
  }
  if (counted === 0) throw new Error('no evaluated user has liked catalog items');
  return {
    contentPrecision: content / counted,
    stylePrecision: style / counted,
    randomContentPrecision: randomContent / counted,
    randomStylePrecision: randomStyle / counted,
    perUserContent,
    perUserStyle,
  };
}

/** The model's own setting: what a generation job with default arguments does. */
function productSetting(params: EvaluationParameters): Setting {
  return {
    label: 'as served',
    guidanceScale: params.guidanceScale,
    verifierScale: params.verifierScale,
    candidates: params.candidates,
    conditioned: true,
    clip: true,
  };
}

async function settingFigures(
  inputs: EvaluationInputs,
  users: EvalUser[],
  setting: Setting,
  params: EvaluationParameters,
  reference: CmmdReference,
): Promise<SettingFigures> {
  const { active, world } = inputs;
  const D = active.model.embeddingDim;
  const drawn = await draw(inputs, users, setting, params, setting.label);
  const scores = await verifierMatrix(active, users, drawn);
  const own =
    drawn.owner.reduce((sum, u, s) => sum + (scores[s * users.length + u] as number), 0) / drawn.owner.length;
  const test = permutationTest(
    scores,
    drawn.owner,
    users.length,
    Math.min(params.permutations || 200, 200),
    params.seed,
  );
  return {
    label: setting.label,
    guidanceScale: setting.guidanceScale,
    verifierScale: setting.verifierScale,
    verifierScore: own,
    diversity: diversity(drawn, users.length, D),
    cmmd: cmmdAgainst(reference, drawn.samples, drawn.owner.length),
    inRange: drawn.inRange,
    oracleLikeRate: world === null || world.dim !== D ? null : await oracleLikeRate(world, users, drawn, D),
    z: test.z,
  };
}

/** Run one report's computation: the figures of its kind, and the oracle's view on a taste world. */
export async function computeEvaluation(
  kind: EvaluationKind,
  params: EvaluationParameters,
  inputs: EvaluationInputs,
): Promise<EvaluationResults> {
  const { active, world } = inputs;
  const D = active.model.embeddingDim;
  const users = evaluationUsers(active, params.maxUsers);
  if (users.length < 2)
    throw new Error('an evaluation needs at least two users known to the prior and the verifier');
  const started = performance.now();
  const n = params.samplesPerUser;
  const needsHeldOut = kind !== 'personalisation' && kind !== 'topic_precision';
  const heldOut = needsHeldOut ? await readHeldOut(active, users) : null;
  const reference =
    heldOut === null ? null : cmmdReference(heldOut.likedEmbeddings, heldOut.likedOwners.length, D);
  const results: EvaluationResults = {};
  if (kind === 'guidance_sweep' || kind === 'ablation') {
    const settings: Setting[] =
      kind === 'guidance_sweep'
        ? [
            ...params.scales.map((w) => ({ ...productSetting(params), label: `w = ${w}`, guidanceScale: w })),
            ...params.verifierScales.map((v) => ({
              ...productSetting(params),
              label: `verifier ${v}`,
              verifierScale: v,
            })),
          ]
        : [
            productSetting(params),
            { ...productSetting(params), label: 'no user condition', conditioned: false },
            {
              ...productSetting(params),
              label: 'unconditional (w = 0)',
              guidanceScale: 0,
              conditioned: false,
            },
            { ...productSetting(params), label: 'no verifier guidance', verifierScale: 0 },
            { ...productSetting(params), label: 'one candidate (no selection)', candidates: 1 },
            { ...productSetting(params), label: 'no clamp to the data range', clip: false },
          ];
    const rows: SettingFigures[] = [];
    for (const setting of settings)
      rows.push(await settingFigures(inputs, users, setting, params, reference!));
    if (kind === 'guidance_sweep') results.sweep = rows;
    else results.ablations = rows;
    results.samplingSeconds = (performance.now() - started) / 1000;
    return results;
  }
  const drawn = await draw(inputs, users, productSetting(params), params, kind);
  if (kind === 'personalisation') {
    inputs.onProgress({ phase: 'permutation test', done: 0, total: 1 });
    results.personalisation = personalisationFigures(
      users,
      n,
      await verifierMatrix(active, users, drawn),
      drawn.owner,
      params.permutations,
      params.seed,
    );
  } else if (kind === 'distribution') {
    inputs.onProgress({ phase: 'Frechet distance and CMMD', done: 0, total: 1 });
    results.distribution = await distributionFigures(users, drawn, heldOut!, reference!, D);
  } else if (kind === 'precision_recall') {
    results.precisionRecall = precisionRecallFigures(users, drawn, heldOut!, n);
  } else if (kind === 'topic_precision') {
    if (world === null)
      throw new Error('topic precision needs a taste world (IMAGE_DECODER=world:<preset>:<seed>)');
    results.topicPrecision = await topicFigures(inputs, world, users, drawn);
  }
  results.oracle = world === null ? null : await oracleFigures(world, active, users, drawn, params.seed);
  results.samplingSeconds = (performance.now() - started) / 1000;
  return results;
}
