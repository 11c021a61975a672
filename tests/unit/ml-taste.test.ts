import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outOfRange } from '../../src/ml/data-range.js';
import { verifierGuidanceHook } from '../../src/ml/guidance.js';
import { loadModel, type RebecaModel } from '../../src/ml/model.js';
import { sampleEmbeddings, sampleToEnd, type UserCondition } from '../../src/ml/sampler.js';

// The tiny fixture's prior conditions on taste vectors (the verifier's [theta, b]), predicts x0 and
// clamps it into the training catalog's range.
const FIXTURE = 'tests/fixtures/tiny-model';

let model: RebecaModel;
beforeAll(async () => {
  model = await loadModel(FIXTURE);
});
afterAll(async () => {
  await model.dispose();
});

function tasteOf(index: number): {
  condition: UserCondition;
  factors: { vector: Float32Array; bias: number };
} {
  const id = model.manifest.users[index] as string;
  const factors = model.verifier.userFactors(model.verifier.userRow(id) as number);
  return { condition: model.userCondition(id, factors) as UserCondition, factors };
}

function meanScore(samples: Float32Array, factors: { vector: Float32Array; bias: number }): number {
  const D = model.embeddingDim;
  let sum = 0;
  for (let i = 0; i < samples.length / D; i += 1)
    sum += model.verifier.probability(factors, samples.subarray(i * D, (i + 1) * D));
  return sum / (samples.length / D);
}

describe('a taste-conditioned prior', () => {
  it('is what the manifest says', () => {
    expect(model.conditioning).toEqual({ kind: 'taste', tasteDim: model.verifier.rank + 1 });
    expect(model.predictionType).toBe('sample');
    expect(model.dataRange?.lower).toHaveLength(model.embeddingDim);
  });

  it('conditions on the vector: another taste, other samples; the same taste and seed, the same', async () => {
    const a = await sampleToEnd(model, { user: tasteOf(0).condition, count: 4, seed: 9 });
    const again = await sampleToEnd(model, { user: tasteOf(0).condition, count: 4, seed: 9 });
    const b = await sampleToEnd(model, { user: tasteOf(5).condition, count: 4, seed: 9 });
    expect(Array.from(again)).toEqual(Array.from(a));
    expect(a.some((value, i) => Math.abs(value - (b[i] as number)) > 1e-3)).toBe(true);
  });

  it('takes any vector of the right width (a user fitted at request time), and refuses others', async () => {
    const { factors } = tasteOf(2);
    const fitted = Float32Array.from([...factors.vector, factors.bias]);
    fitted[0] = (fitted[0] as number) + 0.3;
    await expect(
      sampleToEnd(model, { user: { kind: 'taste', vector: fitted }, count: 1, seed: 1 }),
    ).resolves.toHaveLength(16);
    await expect(
      sampleToEnd(model, { user: { kind: 'taste', vector: new Float32Array(3) }, count: 1, seed: 1 }),
    ).rejects.toThrow(/taste vector must hold 5 finite values, got 3/);
    await expect(sampleToEnd(model, { user: { kind: 'row', row: 0 }, count: 1, seed: 1 })).rejects.toThrow(
      /conditions on taste vectors, not user rows/,
    );
  });

  it('keeps every clean estimate and every sample inside the catalog range', async () => {
    const { mean, std } = model.standardization;
    const bounds = model.dataRange!;
    const D = model.embeddingDim;
    let checked = 0;
    for await (const event of sampleEmbeddings(model, {
      user: tasteOf(1).condition,
      count: 8,
      guidanceScale: 20,
      seed: 3,
    })) {
      const values = event.type === 'step' ? event.estimate : event.samples;
      for (let i = 0; i < values.length; i += 1) {
        const k = i % D;
        const z = ((values[i] as number) - (mean[k] as number)) / (std[k] as number);
        expect(z).toBeGreaterThanOrEqual((bounds.lower[k] as number) - 1e-4);
        expect(z).toBeLessThanOrEqual((bounds.upper[k] as number) + 1e-4);
        checked += 1;
      }
    }
    expect(checked).toBe(51 * 8 * D);
  });

  it('without the clamp and with an absurd guidance scale, leaves the range, which the check catches', async () => {
    const samples = await sampleToEnd(model, {
      user: tasteOf(1).condition,
      count: 8,
      guidanceScale: 50,
      clip: false,
      seed: 3,
    });
    const D = model.embeddingDim;
    const problems = Array.from({ length: 8 }, (_, i) =>
      outOfRange(samples.subarray(i * D, (i + 1) * D), model.dataRange!, model.standardization),
    );
    expect(problems.some((problem) => problem !== null)).toBe(true);
  });

  it('verifier guidance raises the verifier score of the samples', async () => {
    const { condition, factors } = tasteOf(3);
    const plain = await sampleToEnd(model, { user: condition, count: 32, seed: 4 });
    const guided = await sampleToEnd(model, {
      user: condition,
      count: 32,
      seed: 4,
      guide: verifierGuidanceHook(model.verifier, factors, model.standardization, 0.5),
    });
    expect(meanScore(guided, factors)).toBeGreaterThan(meanScore(plain, factors) + 0.05);
  });
});
