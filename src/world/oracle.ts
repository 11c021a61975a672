import { type World, type WorldSpace } from './types.js';
import { sigmoid } from '../lib/sigmoid.js';

export { sigmoid };

/** The oracle in words; written verbatim into truth.json and the README. */
export const ORACLE_DESCRIPTION = [
  'P(like | user u, embedding e), e raw (not normalised), D = dim, T = temperature:',
  '  z = (e - mean) / scale                                  (elementwise; mean, scale from embedding)',
  '  for each attribute a with prototypes Q_a of shape [K_a, D] (embedding.prototypes[a], whitened):',
  '    d2_a[k] = sum_j (z_j - Q_a[k, j])^2 / D',
  '    post_a  = softmax_k(-d2_a / T)',
  '  P(like) = sigmoid(users[u].bias + sum_a dot(users[u].weights[a], post_a))',
  'Like means score >= 4; ratings draw like ~ Bernoulli(P(like)) exactly, then a score within the class.',
].join('\n');

/** The same formula as NumPy, for the Python side (also in truth.json). */
export const ORACLE_NUMPY = [
  'import json, numpy as np',
  "t = json.load(open('truth.json')); E = t['embedding']",
  "z = (e - np.array(E['mean'])) / np.array(E['scale'])",
  "u = next(x for x in t['users'] if x['id'] == user_id); logit = u['bias']",
  "for a, attr in enumerate(t['attributes']):",
  "    Q = np.array(E['prototypes'][attr['name']])",
  "    d2 = ((z[None, :] - Q) ** 2).mean(axis=1) / t['oracle']['temperature']",
  '    p = np.exp(-(d2 - d2.min())); p /= p.sum()',
  "    logit += np.dot(u['weights'][a], p)",
  'prob = 1 / (1 + np.exp(-logit))',
].join('\n');

/** Soft attribute posteriors of an embedding: one softmax per attribute, concatenated (sum_a K_a values). */
export function attributePosteriors(
  space: WorldSpace,
  temperature: number,
  embedding: ArrayLike<number>,
  out?: Float64Array,
): Float64Array {
  const { dim, mean, scale, prototypes } = space;
  const z = new Float64Array(dim);
  for (let d = 0; d < dim; d += 1) z[d] = ((embedding[d] as number) - mean[d]!) / scale[d]!;
  const total = prototypes.reduce((n, block) => n + block.length / dim, 0);
  const result = out ?? new Float64Array(total);
  let offset = 0;
  for (const block of prototypes) {
    const k = block.length / dim;
    let best = Infinity;
    for (let i = 0; i < k; i += 1) {
      let d2 = 0;
      for (let d = 0; d < dim; d += 1) {
        const diff = z[d]! - block[i * dim + d]!;
        d2 += diff * diff;
      }
      const energy = d2 / dim / temperature;
      result[offset + i] = energy;
      if (energy < best) best = energy;
    }
    let sum = 0;
    for (let i = 0; i < k; i += 1) {
      const p = Math.exp(-(result[offset + i]! - best));
      result[offset + i] = p;
      sum += p;
    }
    for (let i = 0; i < k; i += 1) result[offset + i] = result[offset + i]! / sum;
    offset += k;
  }
  return result;
}

/** The oracle's logit from precomputed posteriors (see {@link attributePosteriors}). */
export function likeLogitFromPosteriors(world: World, userIndex: number, posteriors: Float64Array): number {
  const user = world.users[userIndex];
  if (user === undefined) throw new Error(`no user at index ${userIndex}`);
  let logit = user.bias;
  let offset = 0;
  for (const row of user.weights) {
    for (let k = 0; k < row.length; k += 1) logit += row[k]! * posteriors[offset + k]!;
    offset += row.length;
  }
  return logit;
}

/** The ground-truth probability that the user likes (scores >= 4) a picture with this embedding. */
export function likeProbability(world: World, userId: string, embedding: ArrayLike<number>): number {
  const index = world.userIndex.get(userId);
  if (index === undefined) throw new Error(`unknown user ${userId}`);
  if (embedding.length !== world.dim) {
    throw new Error(`embedding has ${embedding.length} values, the world has D = ${world.dim}`);
  }
  const posteriors = attributePosteriors(world.space, world.temperature, embedding);
  return sigmoid(likeLogitFromPosteriors(world, index, posteriors));
}
