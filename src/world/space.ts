import { ATTRIBUTES } from './attributes.js';
import { Rng, round6 } from './prng.js';
import { type WorldSpace } from './types.js';

/** Per-dimension variance of one attribute's prototype in whitened units. */
const PROTOTYPE_VARIANCE = 0.18;
/** Item noise sd in whitened units: five prototypes (0.9) plus noise (0.1) give z roughly unit variance. */
const ITEM_NOISE = 0.316;

/**
 * A fixed, seeded embedding space that behaves like raw CLIP/IP-Adapter embeddings: a shared mean offset
 * (with a few outlier dimensions), per-dimension scales that decay with the index (anisotropic), and
 * attribute prototypes. Prototypes are orthogonalised when D allows so that attributes do not leak into
 * each other; below that (D < 26) only within one attribute.
 */
export function createSpace(seed: number, dim: number): WorldSpace {
  const rng = Rng.stream(seed, 'space');
  const mean = new Float64Array(dim);
  const scale = new Float64Array(dim);
  for (let d = 0; d < dim; d += 1) {
    const outlier = rng.uniform() < 0.01 ? 2.5 * rng.normal() : 0;
    mean[d] = round6(0.25 * rng.normal() + outlier);
    scale[d] = round6(0.9 / Math.sqrt(1 + (16 * d) / dim) + 0.05 * rng.uniform());
  }
  const vectors: Float64Array[] = [];
  const orthogonalAcrossAttributes = ATTRIBUTES.reduce((n, a) => n + a.values.length, 0) <= dim;
  const prototypes = ATTRIBUTES.map((attribute) => {
    const block = new Float64Array(attribute.values.length * dim);
    const within: Float64Array[] = [];
    for (let k = 0; k < attribute.values.length; k += 1) {
      const v = new Float64Array(dim);
      for (let d = 0; d < dim; d += 1) v[d] = rng.normal();
      for (const previous of orthogonalAcrossAttributes ? vectors : within) project(v, previous);
      const norm = Math.sqrt(dot(v, v));
      const target = Math.sqrt(PROTOTYPE_VARIANCE * dim);
      for (let d = 0; d < dim; d += 1) v[d] = (v[d] ?? 0) / norm;
      vectors.push(v.slice());
      within.push(v.slice());
      for (let d = 0; d < dim; d += 1) block[k * dim + d] = round6((v[d] ?? 0) * target);
    }
    return block;
  });
  return { dim, mean, scale, noise: ITEM_NOISE, prototypes };
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

/** Remove from v its component along the unit vector u. */
function project(v: Float64Array, u: Float64Array): void {
  const c = dot(v, u);
  for (let i = 0; i < v.length; i += 1) v[i] = (v[i] ?? 0) - c * (u[i] ?? 0);
}

/** Write the raw embedding of a picture with these attribute codes into out[offset..offset+D). */
export function embedInto(
  space: WorldSpace,
  codes: ArrayLike<number>,
  rng: Rng,
  out: Float32Array,
  offset: number,
): void {
  const { dim, mean, scale, prototypes, noise } = space;
  for (let d = 0; d < dim; d += 1) {
    let z = noise * rng.normal();
    for (let a = 0; a < prototypes.length; a += 1) {
      z += (prototypes[a] as Float64Array)[(codes[a] as number) * dim + d] as number;
    }
    out[offset + d] = (mean[d] as number) + (scale[d] as number) * z;
  }
}
