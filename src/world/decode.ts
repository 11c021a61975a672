import { attributeValues, type AttributeValues } from './attributes.js';
import { renderTile } from './render.js';
import { type World, type WorldSpace } from './types.js';

export interface DecodedPicture {
  attributes: AttributeValues;
  /** Value indices in ATTRIBUTES order. */
  codes: number[];
  svg: string;
  /** Root-mean-square whitened residual after removing the decoded prototypes (~0.32 for catalog items). */
  residual: number;
}

interface Gram {
  /** Offset of each attribute's first prototype among all prototypes. */
  offsets: number[];
  sizes: number[];
  /** Dot products of all prototypes, [F, F]. */
  products: Float64Array;
}

const grams = new WeakMap<WorldSpace, Gram>();

function gramOf(space: WorldSpace): Gram {
  const cached = grams.get(space);
  if (cached !== undefined) return cached;
  const { dim, prototypes } = space;
  const rows = prototypes.flatMap((block) =>
    Array.from({ length: block.length / dim }, (_, k) => block.subarray(k * dim, (k + 1) * dim)),
  );
  const products = new Float64Array(rows.length * rows.length);
  rows.forEach((a, i) =>
    rows.forEach((b, j) => {
      let sum = 0;
      for (let d = 0; d < dim; d += 1) sum += a[d]! * b[d]!;
      products[i * rows.length + j] = sum;
    }),
  );
  const sizes = prototypes.map((block) => block.length / dim);
  const offsets = sizes.map((_, a) => sizes.slice(0, a).reduce((x, y) => x + y, 0));
  const gram = { offsets, sizes, products };
  grams.set(space, gram);
  return gram;
}

/**
 * The attribute configuration whose noiseless embedding is nearest (whitened distance) to the given one,
 * found exactly over all configurations, and its picture. Expanding the squared distance into prototype
 * dot products makes each of the 3,600 configurations cost a few dozen operations whatever D is.
 */
export function decodeEmbedding(world: World, embedding: ArrayLike<number>): DecodedPicture {
  const { dim, mean, scale, prototypes } = world.space;
  if (embedding.length !== dim) {
    throw new Error(`embedding has ${embedding.length} values, the world has D = ${dim}`);
  }
  const z = new Float64Array(dim);
  for (let d = 0; d < dim; d += 1) z[d] = ((embedding[d] as number) - mean[d]!) / scale[d]!;
  const { offsets, sizes, products } = gramOf(world.space);
  const total = offsets.at(-1)! + sizes.at(-1)!;
  const projections = new Float64Array(total);
  prototypes.forEach((block, a) => {
    for (let k = 0; k < sizes[a]!; k += 1) {
      let sum = 0;
      for (let d = 0; d < dim; d += 1) sum += z[d]! * block[k * dim + d]!;
      projections[offsets[a]! + k] = sum;
    }
  });
  // ||z - sum_a Q_a||^2 - ||z||^2 = sum_a (G_aa - 2 z.Q_a) + 2 sum_{a<b} G_ab, over an odometer of codes.
  const n = sizes.length;
  const codes = new Array<number>(n).fill(0);
  const rows = new Array<number>(n).fill(0);
  let best = Infinity;
  let bestCodes = codes.slice();
  for (;;) {
    for (let a = 0; a < n; a += 1) rows[a] = offsets[a]! + codes[a]!;
    let cost = 0;
    for (let a = 0; a < n; a += 1) {
      const fa = rows[a]!;
      cost += products[fa * total + fa]! - 2 * projections[fa]!;
      for (let b = a + 1; b < n; b += 1) cost += 2 * products[fa * total + rows[b]!]!;
    }
    if (cost < best) {
      best = cost;
      bestCodes = codes.slice();
    }
    let a = n - 1;
    while (a >= 0 && codes[a] === sizes[a]! - 1) {
      codes[a] = 0;
      a -= 1;
    }
    if (a < 0) break;
    codes[a] = codes[a]! + 1;
  }
  let zz = 0;
  for (let d = 0; d < dim; d += 1) zz += z[d]! * z[d]!;
  return {
    attributes: attributeValues(bestCodes),
    codes: bestCodes,
    svg: renderTile(bestCodes),
    residual: Math.sqrt(Math.max(0, zz + best) / dim),
  };
}
