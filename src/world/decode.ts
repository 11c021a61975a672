import { attributeValues, type AttributeValues } from './attributes.js';
import { attributePosteriors } from './oracle.js';
import { renderTile } from './render.js';
import { type World } from './types.js';

export interface DecodedPicture {
  attributes: AttributeValues;
  /** Value indices in ATTRIBUTES order. */
  codes: number[];
  svg: string;
  /** Root-mean-square whitened residual after removing the decoded prototypes (~0.32 for catalog items). */
  residual: number;
}

const SWEEPS = 3;

/**
 * The nearest attribute configuration to an embedding (jointly: each attribute is chosen with the others'
 * prototypes subtracted, starting from the oracle's posteriors), and its picture. Joint decoding stays
 * exact where per-attribute posteriors blur (small D, where prototypes of different attributes overlap).
 */
export function decodeEmbedding(world: World, embedding: ArrayLike<number>): DecodedPicture {
  const { dim, mean, scale, prototypes } = world.space;
  if (embedding.length !== dim) {
    throw new Error(`embedding has ${embedding.length} values, the world has D = ${dim}`);
  }
  const z = new Float64Array(dim);
  for (let d = 0; d < dim; d += 1) z[d] = ((embedding[d] as number) - mean[d]!) / scale[d]!;
  const posteriors = attributePosteriors(world.space, world.temperature, embedding);
  const codes: number[] = [];
  let offset = 0;
  for (const block of prototypes) {
    const k = block.length / dim;
    let best = 0;
    for (let i = 1; i < k; i += 1) if (posteriors[offset + i]! > posteriors[offset + best]!) best = i;
    codes.push(best);
    offset += k;
  }
  const residual = Float64Array.from(z);
  prototypes.forEach((block, a) => {
    const base = codes[a]! * dim;
    for (let d = 0; d < dim; d += 1) residual[d] = residual[d]! - block[base + d]!;
  });
  for (let sweep = 0; sweep < SWEEPS; sweep += 1) {
    let changed = false;
    prototypes.forEach((block, a) => {
      const current = codes[a]! * dim;
      // residual + current prototype = what attribute a must explain.
      let best = codes[a]!;
      let bestDistance = Infinity;
      for (let i = 0; i < block.length / dim; i += 1) {
        let distance = 0;
        for (let d = 0; d < dim; d += 1) {
          const diff = residual[d]! + block[current + d]! - block[i * dim + d]!;
          distance += diff * diff;
        }
        if (distance < bestDistance) {
          bestDistance = distance;
          best = i;
        }
      }
      if (best !== codes[a]) {
        for (let d = 0; d < dim; d += 1)
          residual[d] = residual[d]! + block[current + d]! - block[best * dim + d]!;
        codes[a] = best;
        changed = true;
      }
    });
    if (!changed) break;
  }
  let sum = 0;
  for (let d = 0; d < dim; d += 1) sum += residual[d]! * residual[d]!;
  return {
    attributes: attributeValues(codes),
    codes,
    svg: renderTile(codes),
    residual: Math.sqrt(sum / dim),
  };
}
