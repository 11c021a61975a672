import { describe, expect, it } from 'vitest';
import { DdimScheduler } from '../../src/ml/ddim.js';
import { DdpmScheduler } from '../../src/ml/ddpm.js';
import { SeededRandom } from '../../src/ml/rng.js';
import { leadingTimesteps, makeNoiseSchedule } from '../../src/ml/schedule.js';

const linear = makeNoiseSchedule({ kind: 'linear', timesteps: 1000, betaStart: 1e-4, betaEnd: 0.02 });
const cosine = makeNoiseSchedule({ kind: 'cosine', timesteps: 1000, betaStart: 0, betaEnd: 0 });

function normals(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  new SeededRandom(seed).fillNormal(out);
  return out;
}

/** x_t = sqrt(acp) x0 + sqrt(1 - acp) eps, in float64 then stored as float32. */
function noised(x0: Float32Array, eps: Float32Array, acp: number): Float32Array {
  return x0.map((v, i) => Math.sqrt(acp) * v + Math.sqrt(1 - acp) * (eps[i] as number));
}

describe('noise schedules', () => {
  it('linear betas run from betaStart to betaEnd and alphas_cumprod is their running product', () => {
    expect(linear.betas[0]).toBe(1e-4);
    expect(linear.betas[999]).toBeCloseTo(0.02, 15);
    expect(linear.betas[500]).toBeCloseTo(1e-4 + (0.0199 * 500) / 999, 15);
    let product = 1;
    for (let t = 0; t < 1000; t += 1) product *= 1 - (linear.betas[t] as number);
    expect(linear.alphasCumprod[999]).toBeCloseTo(product, 15);
    expect(linear.alphasCumprod[999]).toBeCloseTo(4.035e-5, 7);
  });

  it('cosine alphas_cumprod follows alpha_bar(t+1/T) / alpha_bar(0) until the beta cap', () => {
    const alphaBar = (s: number): number => Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (const t of [0, 10, 250, 500, 900]) {
      expect(cosine.alphasCumprod[t]).toBeCloseTo(alphaBar((t + 1) / 1000) / alphaBar(0), 12);
    }
    expect(cosine.betas[999]).toBe(0.999);
  });

  it('leading spacing matches diffusers', () => {
    expect(Array.from(leadingTimesteps(1000, 4))).toEqual([750, 500, 250, 0]);
    expect(Array.from(leadingTimesteps(6000, 50)).slice(0, 3)).toEqual([5880, 5760, 5640]);
    expect(leadingTimesteps(10, 10)[0]).toBe(9);
    expect(() => leadingTimesteps(10, 11)).toThrow(/1\.\.10/);
  });
});

describe('DDPM', () => {
  const ddpm = new DdpmScheduler(linear);
  const x0 = normals(1, 64);
  const eps = normals(2, 64);
  const z = normals(3, 64);

  it('walks every training step, T-1 down to 0, noising all but the last', () => {
    expect(ddpm.timesteps.length).toBe(1000);
    expect(ddpm.timesteps[0]).toBe(999);
    expect(ddpm.timesteps[999]).toBe(0);
    expect(ddpm.stepNeedsNoise(998)).toBe(true);
    expect(ddpm.stepNeedsNoise(999)).toBe(false);
  });

  it('recovers x0 from the true noise and takes the posterior q(x_{t-1} | x_t, x0)', () => {
    const index = 300;
    const t = ddpm.timesteps[index] as number;
    const acp = linear.alphasCumprod[t] as number;
    const acpPrev = linear.alphasCumprod[t - 1] as number;
    const beta = linear.betas[t] as number;
    const xt = noised(x0, eps, acp);
    const prev = new Float32Array(64);
    const estimate = new Float32Array(64);
    ddpm.step(index, xt, eps, z, prev, estimate);
    const variance = (beta * (1 - acpPrev)) / (1 - acp);
    for (let i = 0; i < 64; i += 1) {
      expect(estimate[i]).toBeCloseTo(x0[i] as number, 4);
      const mean =
        ((beta * Math.sqrt(acpPrev)) / (1 - acp)) * (x0[i] as number) +
        (((1 - acpPrev) * Math.sqrt(1 - beta)) / (1 - acp)) * (xt[i] as number);
      expect(prev[i]).toBeCloseTo(mean + Math.sqrt(variance) * (z[i] as number), 4);
    }
    expect(ddpm.variance(index)).toBeCloseTo(variance, 15);
  });

  it('adds no noise at t = 0 and returns the clean estimate there', () => {
    const xt = noised(x0, eps, linear.alphasCumprod[0] as number);
    const prev = new Float32Array(64);
    const estimate = new Float32Array(64);
    ddpm.step(999, xt, eps, undefined, prev, estimate);
    expect(Array.from(prev)).toEqual(Array.from(estimate));
  });

  it('insists on noise where the step needs it', () => {
    expect(() => ddpm.step(0, x0, eps, undefined, new Float32Array(64), new Float32Array(64))).toThrow(
      /noise/,
    );
  });
});

describe('DDIM', () => {
  const x0 = normals(4, 32);
  const eps = normals(5, 32);

  it('with eta = 0 and the true noise, lands exactly on x0 in any number of steps', () => {
    for (const steps of [1, 7, 50]) {
      const ddim = new DdimScheduler(cosine, steps, 0);
      let x = noised(x0, eps, cosine.alphasCumprod[ddim.timesteps[0] as number] as number);
      const estimate = new Float32Array(32);
      for (let k = 0; k < steps; k += 1) {
        const prev = new Float32Array(32);
        ddim.step(k, x, eps, undefined, prev, estimate);
        x = prev;
      }
      for (let i = 0; i < 32; i += 1) expect(x[i]).toBeCloseTo(x0[i] as number, 3);
    }
  });

  it('keeps x_prev on the forward marginal of the same (x0, eps) when eta = 0', () => {
    const ddim = new DdimScheduler(linear, 20, 0);
    const t = ddim.timesteps[5] as number;
    const tPrev = ddim.timesteps[6] as number;
    const prev = new Float32Array(32);
    ddim.step(
      5,
      noised(x0, eps, linear.alphasCumprod[t] as number),
      eps,
      undefined,
      prev,
      new Float32Array(32),
    );
    const expected = noised(x0, eps, linear.alphasCumprod[tPrev] as number);
    for (let i = 0; i < 32; i += 1) expect(prev[i]).toBeCloseTo(expected[i] as number, 4);
  });

  it('with eta = 1 over every step equals DDPM given the same noise', () => {
    const schedule = makeNoiseSchedule({ kind: 'linear', timesteps: 100, betaStart: 1e-4, betaEnd: 0.02 });
    const ddim = new DdimScheduler(schedule, 100, 1);
    const ddpm = new DdpmScheduler(schedule);
    const xt = normals(6, 32);
    const z = normals(7, 32);
    for (const index of [0, 40, 98, 99]) {
      const a = new Float32Array(32);
      const b = new Float32Array(32);
      ddim.step(index, xt, eps, z, a, new Float32Array(32));
      ddpm.step(index, xt, eps, z, b, new Float32Array(32));
      for (let i = 0; i < 32; i += 1) expect(a[i]).toBeCloseTo(b[i] as number, 4);
    }
  });

  it('rejects a negative eta', () => {
    expect(() => new DdimScheduler(linear, 10, -0.1)).toThrow(/eta/);
  });
});
