/**
 * Seeded randomness for the synthetic world. Every draw goes through {@link Rng} so that the same seed
 * gives byte-identical files on every machine (Math.random is never used).
 */

import { Xoshiro128 } from '../lib/xoshiro128.js';

/** 32-bit FNV-1a over a string: turns (seed, purpose) into an independent stream seed. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** xoshiro128** seeded through splitmix32; fast, small state, good enough statistics for simulation. */
export class Rng extends Xoshiro128 {
  private spareNormal: number | null = null;

  /**
   * A stream for one purpose (e.g. 'items', 'ratings'): streams are independent, so changing the number
   * of users does not reshuffle the items.
   */
  static stream(seed: number, purpose: string): Rng {
    return new Rng(hashString(`${seed >>> 0}:${purpose}`) ^ Math.imul(seed >>> 0, 0x9e3779b1));
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return this.nextFloat();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal by Box–Muller; the second value of each pair is kept for the next call. */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Index drawn with probability proportional to weights[i] (weights >= 0, not all zero). */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i += 1) total += weights[i] ?? 0;
    let target = this.uniform() * total;
    for (let i = 0; i < weights.length; i += 1) {
      target -= weights[i] ?? 0;
      if (target < 0) return i;
    }
    return weights.length - 1;
  }
}

/** Round to 6 decimals: world parameters are stored in JSON, and everything computes from the stored value. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
