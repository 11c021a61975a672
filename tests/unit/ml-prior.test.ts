import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ddimStep } from '../../src/ml/ddim.js';
import { ddpmStep } from '../../src/ml/ddpm.js';
import { loadModel, type RebecaModel } from '../../src/ml/model.js';
import { leadingTimesteps, makeNoiseSchedule } from '../../src/ml/schedule.js';
import { sampleToEnd } from '../../src/ml/sampler.js';

// The demo model joins when it is committed; the tiny fixture always runs.
const ARTIFACTS = ['tests/fixtures/tiny-model', 'models/demo'].filter((dir) =>
  existsSync(`${dir}/golden.json`),
);

interface StepCase {
  t: number;
  prevT: number;
  eta?: number;
  sample: number[];
  eps: number[];
  noise: number[] | null;
  prevSample: number[];
}

interface Golden {
  tolerances: { prior: number; scheduler: number; verifier: number; guidedSample: number };
  schedule: {
    kind: 'linear' | 'cosine';
    timesteps: number;
    betaStart: number;
    betaEnd: number;
    betas: number[];
    alphasCumprod: number[];
  };
  prior: {
    inputs: { noisyEmbedding: number[][]; timestep: number[]; userRow: number[]; rating: number[] };
    outputs: { predictedNoise: number[][] };
  };
  ddpmSteps: StepCase[];
  ddimSteps: StepCase[];
  ddimTimesteps: { numInferenceSteps: number; timesteps: number[] }[];
  guidedSample: {
    numInferenceSteps: number;
    eta: number;
    guidanceScale: number;
    userRow: number[];
    rating: number[];
    initialNoise: number[][];
    raw: number[][];
  };
  verifier: { userRow: number; embedding: number[]; probability: number }[];
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i += 1) {
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  }
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe.each(ARTIFACTS)('golden vectors of %s', (FIXTURE) => {
  const golden = JSON.parse(readFileSync(`${FIXTURE}/golden.json`, 'utf8')) as Golden;

  describe('schedulers (pure code)', () => {
    const schedule = makeNoiseSchedule(golden.schedule);

    it('reproduces betas and alphas_cumprod', () => {
      expectClose(schedule.betas, golden.schedule.betas, 1e-15);
      expectClose(schedule.alphasCumprod, golden.schedule.alphasCumprod, 1e-15);
    });

    it('reproduces DDPM steps', () => {
      for (const c of golden.ddpmSteps) {
        const prev = new Float64Array(c.sample.length);
        const noise = c.noise ? Float64Array.from(c.noise) : undefined;
        ddpmStep(
          schedule,
          c.t,
          c.prevT,
          Float64Array.from(c.sample),
          Float64Array.from(c.eps),
          noise,
          prev,
          new Float64Array(prev.length),
        );
        expectClose(prev, c.prevSample, golden.tolerances.scheduler);
      }
    });

    it('reproduces DDIM steps, including the last one (alpha_prev = 1)', () => {
      expect(golden.ddimSteps.some((c) => c.prevT < 0)).toBe(true);
      for (const c of golden.ddimSteps) {
        const prev = new Float64Array(c.sample.length);
        const noise = c.noise ? Float64Array.from(c.noise) : undefined;
        ddimStep(
          schedule,
          c.t,
          c.prevT,
          c.eta ?? 0,
          Float64Array.from(c.sample),
          Float64Array.from(c.eps),
          noise,
          prev,
          new Float64Array(prev.length),
        );
        expectClose(prev, c.prevSample, golden.tolerances.scheduler);
      }
    });

    it('spaces DDIM timesteps as the training side does', () => {
      for (const c of golden.ddimTimesteps) {
        expect(Array.from(leadingTimesteps(golden.schedule.timesteps, c.numInferenceSteps))).toEqual(
          c.timesteps,
        );
      }
    });
  });

  describe('the real artifact on onnxruntime-node', () => {
    let model: RebecaModel;
    beforeAll(async () => {
      model = await loadModel(FIXTURE);
    });
    afterAll(async () => {
      await model.dispose();
    });

    it('reproduces the PyTorch prior outputs within 1e-4', async () => {
      const inputs = golden.prior.inputs;
      const noise = await model.prior.run({
        noisyEmbedding: Float32Array.from(inputs.noisyEmbedding.flat()),
        timestep: BigInt64Array.from(inputs.timestep.map(BigInt)),
        userRow: BigInt64Array.from(inputs.userRow.map(BigInt)),
        rating: BigInt64Array.from(inputs.rating.map(BigInt)),
      });
      expectClose(noise, golden.prior.outputs.predictedNoise.flat(), golden.tolerances.prior);
    });

    it('reproduces the end-to-end guided DDIM sample', async () => {
      const g = golden.guidedSample;
      expect(g.rating.every((r) => r === 1)).toBe(true);
      for (let row = 0; row < g.userRow.length; row += 1) {
        const samples = await sampleToEnd(model, {
          userRow: g.userRow[row] as number,
          rating: 'like',
          count: 1,
          guidanceScale: g.guidanceScale,
          method: 'ddim',
          steps: g.numInferenceSteps,
          eta: g.eta,
          seed: 0,
          initialNoise: Float32Array.from(g.initialNoise[row] as number[]),
        });
        expectClose(samples, g.raw[row] as number[], golden.tolerances.guidedSample);
      }
    });

    it('reproduces the verifier probabilities', () => {
      for (const c of golden.verifier) {
        expect(
          Math.abs(model.verifier.probability(c.userRow, Float32Array.from(c.embedding)) - c.probability),
        ).toBeLessThan(golden.tolerances.verifier);
      }
    });
  });
});
