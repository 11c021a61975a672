import { sigmoid } from './oracle.js';
import { type Rng } from './prng.js';
import { type WorldUser } from './types.js';

/** Ratings as parallel arrays (no per-rating objects: the flickr preset has ~200,000). */
export interface RatingTable {
  user: Int32Array;
  item: Int32Array;
  score: Uint8Array;
}

export interface RatingOptions {
  ratersPerItem: number;
  minLikedPerUser: number;
}

/**
 * A score on 1..5 given the oracle's probability p: like ~ Bernoulli(p) exactly (so the oracle is the true
 * P(score >= 4)); within a class, leniency and p decide 5 vs 4 and 3 vs 2 vs 1.
 */
export function drawScore(rng: Rng, p: number, leniency: number): number {
  const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
  if (rng.uniform() < p) {
    return rng.uniform() < clamp(0.25 + 0.4 * (p - 0.5) + 0.12 * leniency, 0.05, 0.85) ? 5 : 4;
  }
  if (rng.uniform() < clamp(0.45 + 0.3 * (p - 0.5) + 0.12 * leniency, 0.1, 0.85)) return 3;
  return rng.uniform() < clamp(0.45 + 0.12 * leniency, 0.15, 0.8) ? 2 : 1;
}

/**
 * Each item gets `ratersPerItem` distinct raters drawn with probability proportional to their activity
 * (Efraimidis-Spirakis keys), which gives the long-tailed ratings per user of FLICKR-AES. Users left with
 * fewer than `minLikedPerUser` likes then rate extra unrated items until they reach it.
 */
export function drawRatings(
  rng: Rng,
  users: WorldUser[],
  items: number,
  logit: (user: number, item: number) => number,
  options: RatingOptions,
  onProgress?: (fraction: number) => void,
): RatingTable {
  const userList: number[] = [];
  const itemList: number[] = [];
  const scoreList: number[] = [];
  const liked = new Int32Array(users.length);
  const rated = users.map(() => new Set<number>());
  const keys = new Float64Array(users.length);
  const order = Array.from({ length: users.length }, (_, u) => u);
  const rate = (u: number, i: number) => {
    const user = users[u]!;
    const score = drawScore(rng, sigmoid(logit(u, i)), user.leniency);
    userList.push(u);
    itemList.push(i);
    scoreList.push(score);
    rated[u]!.add(i);
    if (score >= 4) liked[u] = liked[u]! + 1;
  };
  const k = Math.min(options.ratersPerItem, users.length);
  for (let i = 0; i < items; i += 1) {
    for (let u = 0; u < users.length; u += 1) {
      let r = rng.uniform();
      while (r === 0) r = rng.uniform();
      keys[u] = Math.log(r) / users[u]!.activity;
    }
    order.sort((a, b) => keys[b]! - keys[a]! || a - b);
    for (let j = 0; j < k; j += 1) rate(order[j]!, i);
    if (onProgress !== undefined && i % 2000 === 0) onProgress(i / items);
  }
  for (let u = 0; u < users.length; u += 1) {
    for (let tries = 0; liked[u]! < options.minLikedPerUser && rated[u]!.size < items; tries += 1) {
      const i = rng.int(items);
      if (!rated[u]!.has(i)) rate(u, i);
    }
  }
  const index = Array.from({ length: userList.length }, (_, r) => r);
  index.sort((a, b) => userList[a]! - userList[b]! || itemList[a]! - itemList[b]!);
  return {
    user: Int32Array.from(index, (r) => userList[r]!),
    item: Int32Array.from(index, (r) => itemList[r]!),
    score: Uint8Array.from(index, (r) => scoreList[r]!),
  };
}
