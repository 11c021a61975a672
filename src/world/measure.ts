import { ATTRIBUTE_VALUE_TOTAL, ATTRIBUTES } from './attributes.js';
import { decodeEmbedding } from './decode.js';
import { type GeneratedWorld } from './generate.js';
import { attributePosteriors, likeLogitFromPosteriors, sigmoid } from './oracle.js';
import { Rng } from './prng.js';

/** Figures that show the world is usable ground truth; used by the tests and bench/world-report.ts. */

/** Area under the ROC curve (ties count half). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<boolean>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]!] === scores[order[start]!]) end += 1;
    const averageRank = (start + end) / 2 + 1;
    for (let j = start; j <= end; j += 1) {
      if (labels[order[j]!]) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Attribute posteriors of every catalog item, row-major [items, sum_a K_a]. */
export function catalogFeatures(generated: GeneratedWorld): Float64Array {
  const { world, embeddings } = generated;
  const items = generated.itemIds.length;
  const features = new Float64Array(items * ATTRIBUTE_VALUE_TOTAL);
  for (let i = 0; i < items; i += 1) {
    attributePosteriors(
      world.space,
      world.temperature,
      embeddings.subarray(i * world.dim, (i + 1) * world.dim),
      features.subarray(i * ATTRIBUTE_VALUE_TOTAL, (i + 1) * ATTRIBUTE_VALUE_TOTAL),
    );
  }
  return features;
}

/** Share of catalog items (up to `limit`, evenly spaced) whose decoded attributes are all right, and per attribute. */
export function decodeAccuracy(
  generated: GeneratedWorld,
  limit = Infinity,
): { all: number; perAttribute: Record<string, number>; items: number } {
  const { world, embeddings, itemCodes } = generated;
  const items = generated.itemIds.length;
  const count = Math.min(items, limit);
  const n = ATTRIBUTES.length;
  const correct = new Array<number>(n).fill(0);
  let allCorrect = 0;
  for (let j = 0; j < count; j += 1) {
    const i = Math.floor((j * items) / count);
    const { codes } = decodeEmbedding(world, embeddings.subarray(i * world.dim, (i + 1) * world.dim));
    let all = true;
    for (let a = 0; a < n; a += 1) {
      if (codes[a] === itemCodes[i * n + a]) correct[a] = correct[a]! + 1;
      else all = false;
    }
    if (all) allCorrect += 1;
  }
  const perAttribute = Object.fromEntries(
    ATTRIBUTES.map((attribute, a) => [attribute.name, correct[a]! / count]),
  );
  return { all: allCorrect / count, perAttribute, items: count };
}

/**
 * Held-out AUC of a per-user logistic regression on the oracle's feature form (attribute posteriors of
 * the embedding), trained on a seeded 80% of each user's ratings; the oracle's own AUC on the same
 * held-out ratings is the ceiling that rating noise allows.
 */
export function heldOutAuc(
  generated: GeneratedWorld,
  features = catalogFeatures(generated),
  seed = 7,
): { fitted: number; oracle: number; meanPerUserFitted: number; heldOut: number } {
  const { ratings, world } = generated;
  const rng = new Rng(seed);
  const width = ATTRIBUTE_VALUE_TOTAL;
  const testScores: number[] = [];
  const oracleScores: number[] = [];
  const testLabels: boolean[] = [];
  const perUser: number[] = [];
  for (let u = 0; u < world.users.length; u += 1) {
    const train: number[] = [];
    const test: number[] = [];
    for (let r = 0; r < ratings.score.length; r += 1) {
      if (ratings.user[r] === u) (rng.uniform() < 0.8 ? train : test).push(r);
    }
    const w = fitLogistic(
      train.map((r) => ratings.item[r]!),
      train.map((r) => ratings.score[r]! >= 4),
      features,
      width,
    );
    const userScores: number[] = [];
    const userLabels: boolean[] = [];
    for (const r of test) {
      const item = ratings.item[r]!;
      let s = w[width]!;
      for (let f = 0; f < width; f += 1) s += w[f]! * features[item * width + f]!;
      const label = ratings.score[r]! >= 4;
      testScores.push(s);
      userScores.push(s);
      userLabels.push(label);
      testLabels.push(label);
      oracleScores.push(
        likeLogitFromPosteriors(world, u, features.subarray(item * width, (item + 1) * width)),
      );
    }
    const auc = rocAuc(userScores, userLabels);
    if (!Number.isNaN(auc)) perUser.push(auc);
  }
  return {
    fitted: rocAuc(testScores, testLabels),
    oracle: rocAuc(oracleScores, testLabels),
    meanPerUserFitted: perUser.reduce((a, b) => a + b, 0) / perUser.length,
    heldOut: testLabels.length,
  };
}

/** L2-regularised logistic regression by full-batch gradient descent; weights then bias. */
function fitLogistic(
  items: number[],
  labels: boolean[],
  features: Float64Array,
  width: number,
): Float64Array {
  const w = new Float64Array(width + 1);
  const gradient = new Float64Array(width + 1);
  const rate = 2;
  const l2 = 1e-3;
  for (let step = 0; step < 300; step += 1) {
    gradient.fill(0);
    items.forEach((item, j) => {
      let s = w[width]!;
      for (let f = 0; f < width; f += 1) s += w[f]! * features[item * width + f]!;
      const error = sigmoid(s) - (labels[j] ? 1 : 0);
      for (let f = 0; f < width; f += 1) gradient[f] = gradient[f]! + error * features[item * width + f]!;
      gradient[width] = gradient[width]! + error;
    });
    for (let f = 0; f <= width; f += 1) {
      w[f] = w[f]! - rate * (gradient[f]! / Math.max(1, items.length) + (f < width ? l2 * w[f]! : 0));
    }
  }
  return w;
}

/** Mean Jaccard overlap between users' top-k catalog items by oracle probability (low = users differ). */
export function topItemOverlap(
  generated: GeneratedWorld,
  k = 50,
  features = catalogFeatures(generated),
): number {
  const { world } = generated;
  const items = generated.itemIds.length;
  const width = ATTRIBUTE_VALUE_TOTAL;
  const tops = world.users.map((_, u) => {
    const logits = new Float64Array(items);
    for (let i = 0; i < items; i += 1) {
      logits[i] = likeLogitFromPosteriors(world, u, features.subarray(i * width, (i + 1) * width));
    }
    const order = Array.from({ length: items }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
    return new Set(order.slice(0, k));
  });
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < tops.length; a += 1) {
    for (let b = a + 1; b < tops.length; b += 1) {
      let shared = 0;
      for (const item of tops[a]!) if (tops[b]!.has(item)) shared += 1;
      sum += shared / (2 * k - shared);
      pairs += 1;
    }
  }
  return pairs === 0 ? Number.NaN : sum / pairs;
}

/** Like share and the spread of ratings per user (FLICKR-AES is long-tailed). */
export function ratingStatistics(generated: GeneratedWorld) {
  const { ratings, world } = generated;
  const perUser = new Array<number>(world.users.length).fill(0);
  const likedPerUser = new Array<number>(world.users.length).fill(0);
  let liked = 0;
  for (let r = 0; r < ratings.score.length; r += 1) {
    const u = ratings.user[r]!;
    perUser[u] = perUser[u]! + 1;
    if (ratings.score[r]! >= 4) {
      liked += 1;
      likedPerUser[u] = likedPerUser[u]! + 1;
    }
  }
  const sorted = [...perUser].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  // Gini coefficient of ratings per user: 0 = all users equally active.
  const gini =
    sorted.reduce((g, x, i) => g + (2 * (i + 1) - sorted.length - 1) * x, 0) / (sorted.length * total);
  const raters = new Map<number, number>();
  for (let r = 0; r < ratings.item.length; r += 1)
    raters.set(ratings.item[r]!, (raters.get(ratings.item[r]!) ?? 0) + 1);
  return {
    ratings: ratings.score.length,
    likeRate: liked / ratings.score.length,
    perUser: {
      min: sorted[0] ?? 0,
      median: sorted[Math.floor(sorted.length / 2)] ?? 0,
      max: sorted.at(-1) ?? 0,
      gini,
    },
    minLikedPerUser: Math.min(...likedPerUser),
    usersWith100Likes: likedPerUser.filter((n) => n >= 100).length,
    meanRatersPerItem: ratings.item.length / Math.max(1, raters.size),
  };
}
