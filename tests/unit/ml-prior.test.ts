import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ddimStep } from '../../src/ml/ddim.js';
import { ddpmStep } from '../../src/ml/ddpm.js';
import { loadModel, type RebecaModel } from '../../src/ml/model.js';
import { leadingTimesteps, makeNoiseSchedule } from '../../src/ml/schedule.js';
import { verifierGuidanceHook } from '../../src/ml/guidance.js';
import { type PredictionType, splitOutput } from '../../src/ml/prediction.js';
import { sampleToEnd, type UserCondition } from '../../src/ml/sampler.js';

// The tiny fixtures (taste- and table-conditioned) and the demo model.
const ARTIFACTS = ['tests/fixtures/tiny-model', 'tests/fixtures/tiny-table-model', 'models/demo'].filter(
  (dir) => existsSync(`${dir}/golden.json`),
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
    inputs: {
      noisyEmbedding: number[][];
      timestep: number[];
      rating: number[];
      userRow?: number[];
      userVector?: number[][];
      userPresent?: number[];
    };
    outputs: { predictedNoise: number[][] };
  };
  conversions: {
    lower: number[];
    upper: number[];
    cases: {
      predictionType: PredictionType;
      t: number;
      sample: number[];
      output: number[];
      x0: number[];
      eps: number[];
      clampedX0: number[];
      clampedEps: number[];
    }[];
  };
  ddpmSteps: StepCase[];
  ddimSteps: StepCase[];
  ddimTimesteps: { numInferenceSteps: number; timesteps: number[] }[];
  guidedSample: {
    numInferenceSteps: number;
    eta: number;
    guidanceScale: number;
    predictionType: PredictionType;
    clip: boolean;
    verifierScale: number;
    verifierRow: number[];
    userRow?: number[];
    userVector?: number[][];
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
        rating: BigInt64Array.from(inputs.rating.map(BigInt)),
        ...(inputs.userRow
          ? { userRow: BigInt64Array.from(inputs.userRow.map(BigInt)) }
          : {
              userVector: Float32Array.from((inputs.userVector ?? []).flat()),
              userPresent: Float32Array.from(inputs.userPresent ?? []),
            }),
      });
      expectClose(noise, golden.prior.outputs.predictedNoise.flat(), golden.tolerances.prior);
    });

    it('reproduces the end-to-end guided DDIM sample (prediction type, clamp, verifier guidance)', async () => {
      const g = golden.guidedSample;
      expect(g.rating.every((r) => r === 1)).toBe(true);
      expect(g.predictionType).toBe(model.predictionType);
      expect(g.clip).toBe(model.dataRange !== null);
      for (let row = 0; row < g.initialNoise.length; row += 1) {
        const user: UserCondition = g.userRow
          ? { kind: 'row', row: g.userRow[row] as number }
          : { kind: 'taste', vector: Float32Array.from(g.userVector?.[row] ?? []) };
        const factors = model.verifier.userFactors(g.verifierRow[row] as number);
        const samples = await sampleToEnd(model, {
          user,
          rating: 'like',
          count: 1,
          guidanceScale: g.guidanceScale,
          method: 'ddim',
          steps: g.numInferenceSteps,
          eta: g.eta,
          seed: 0,
          initialNoise: Float32Array.from(g.initialNoise[row] as number[]),
          ...(g.verifierScale > 0
            ? { guide: verifierGuidanceHook(model.verifier, factors, model.standardization, g.verifierScale) }
            : {}),
        });
        expectClose(samples, g.raw[row] as number[], golden.tolerances.guidedSample);
      }
    });

    it('converts every prediction type to (x0, eps), clamped into the range, as diffusers', () => {
      const { lower, upper, cases } = golden.conversions;
      const bounds = { lower: Float32Array.from(lower), upper: Float32Array.from(upper) };
      const schedule = makeNoiseSchedule(golden.schedule);
      for (const c of cases) {
        const x0 = new Float32Array(c.sample.length);
        const eps = new Float32Array(c.sample.length);
        const sample = Float64Array.from(c.sample);
        const output = Float64Array.from(c.output);
        splitOutput(schedule, c.t, c.predictionType, sample, output, x0, eps);
        expectClose(x0, c.x0, 1e-3 * Math.max(1, ...c.x0.map(Math.abs)));
        expectClose(eps, c.eps, 1e-3 * Math.max(1, ...c.eps.map(Math.abs)));
        splitOutput(schedule, c.t, c.predictionType, sample, output, x0, eps, bounds);
        expectClose(x0, c.clampedX0, 1e-5);
        expectClose(eps, c.clampedEps, 1e-3 * Math.max(1, ...c.clampedEps.map(Math.abs)));
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
