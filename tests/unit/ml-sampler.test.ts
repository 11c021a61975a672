import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenoiseBatcher } from '../../src/ml/batcher.js';
import { loadModel, type RebecaModel } from '../../src/ml/model.js';
import { sampleEmbeddings, sampleToEnd, type SampleOptions } from '../../src/ml/sampler.js';

const FIXTURE = 'tests/fixtures/tiny-table-model';

let model: RebecaModel;
beforeAll(async () => {
  model = await loadModel(FIXTURE);
});
afterAll(async () => {
  await model.dispose();
});

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i += 1)
    worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe('sampleEmbeddings', () => {
  it('yields one event per step with an un-standardised estimate, then the samples', async () => {
    const events = [];
    for await (const event of sampleEmbeddings(model, {
      user: { kind: 'row', row: 3 },
      count: 2,
      steps: 10,
      seed: 1,
    }))
      events.push(event);
    expect(events).toHaveLength(11);
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(steps.map((e) => e.timestep)).toEqual([90, 80, 70, 60, 50, 40, 30, 20, 10, 0]);
    expect(steps[0]?.totalSteps).toBe(10);
    expect(steps[0]?.estimate).toHaveLength(2 * 16);
    const result = events[10];
    expect(result?.type).toBe('result');
    if (result?.type !== 'result') return;
    expect([result.count, result.dim]).toEqual([2, 16]);
    // DDIM with eta = 0 ends on its last clean estimate.
    expect(maxDifference(result.samples, steps[9]?.estimate ?? new Float32Array())).toBeLessThan(1e-5);
    // Un-standardised: samples sit around the training mean, not around 0.
    const { mean } = model.standardization;
    let offMean = 0;
    let offZero = 0;
    for (let i = 0; i < 32; i += 1) {
      offMean += Math.abs((result.samples[i] as number) - (mean[i % 16] as number));
      offZero += Math.abs(result.samples[i] as number);
    }
    expect(offMean).toBeLessThan(offZero * 2);
  });

  it('is reproducible from a seed, for DDPM over every step and for DDIM with eta > 0', async () => {
    for (const options of [
      { method: 'ddpm', seed: 5 },
      { method: 'ddim', steps: 20, eta: 0.5, seed: 5 },
    ] as const) {
      const base = { user: { kind: 'row', row: 1 } as const, count: 3, guidanceScale: 4, ...options };
      const a = await sampleToEnd(model, base);
      const b = await sampleToEnd(model, base);
      const c = await sampleToEnd(model, { ...base, seed: 6 });
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(maxDifference(a, c)).toBeGreaterThan(0.1);
    }
  });

  it('conditions on the user: different users get different samples from the same seed', async () => {
    const a = await sampleToEnd(model, { user: { kind: 'row', row: 0 }, count: 4, seed: 9 });
    const b = await sampleToEnd(model, { user: { kind: 'row', row: 7 }, count: 4, seed: 9 });
    expect(maxDifference(a, b)).toBeGreaterThan(1e-3);
  });

  it('stops promptly with an AbortError when its signal aborts', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = (async () => {
      for await (const event of sampleEmbeddings(model, {
        user: { kind: 'row', row: 0 },
        count: 2,
        method: 'ddpm',
        seed: 1,
        signal: controller.signal,
      })) {
        if (event.type === 'step') seen.push(event.step);
        if (event.type === 'step' && event.step === 5) controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('rejects bad options with a clear message', async () => {
    const bad = async (options: Partial<SampleOptions>): Promise<unknown> =>
      sampleToEnd(model, { user: { kind: 'row', row: 0 }, count: 1, seed: 0, ...options }).catch(
        (error: unknown) => error,
      );
    expect(String(await bad({ user: { kind: 'row', row: 13 } }))).toMatch(/userRow 13 is outside 0\.\.12/);
    expect(String(await bad({ count: 0 }))).toMatch(/count must be a positive integer/);
    expect(String(await bad({ steps: 101 }))).toMatch(/steps must be an integer in 1\.\.100/);
    expect(String(await bad({ initialNoise: new Float32Array(3) }))).toMatch(
      /initialNoise holds 3 values, expected 1 x 16/,
    );
  });
});

describe('DenoiseBatcher', () => {
  const requests: SampleOptions[] = [
    { user: { kind: 'row', row: 0 }, count: 3, guidanceScale: 3, method: 'ddim', steps: 10, seed: 1 },
    { user: { kind: 'row', row: 5 }, count: 2, guidanceScale: 7, method: 'ddim', steps: 25, eta: 1, seed: 2 },
    {
      user: { kind: 'row', row: 11 },
      rating: 'dislike',
      count: 1,
      guidanceScale: 1,
      method: 'ddpm',
      seed: 3,
    },
    { user: { kind: 'row', row: 12 }, count: 4, guidanceScale: 0, method: 'ddim', steps: 4, seed: 4 },
  ];

  it('gives concurrent requests the same samples as running each alone', async () => {
    const alone = await Promise.all(requests.map((options) => sampleToEnd(model, options)));
    const batcher = new DenoiseBatcher(model.prior, { maxBatchRows: 64, maxQueueDelayMs: 20 });
    const batched = await Promise.all(
      requests.map((options) => sampleToEnd(model, { ...options, denoiser: batcher })),
    );
    for (let r = 0; r < requests.length; r += 1) {
      expect(maxDifference(batched[r] as Float32Array, alone[r] as Float32Array)).toBeLessThan(1e-4);
    }
    // 139 steps in all; the longest request alone needs 100 runs.
    expect(batcher.stats.requests).toBe(10 + 25 + 100 + 4);
    expect(batcher.stats.runs).toBe(100);
  });

  it('caps a run at maxBatchRows and still finishes every request', async () => {
    const batcher = new DenoiseBatcher(model.prior, { maxBatchRows: 6, maxQueueDelayMs: 1 });
    const batched = await Promise.all(
      requests.map((options) => sampleToEnd(model, { ...options, denoiser: batcher })),
    );
    const alone = await sampleToEnd(model, requests[1] as SampleOptions);
    expect(maxDifference(batched[1] as Float32Array, alone)).toBeLessThan(1e-4);
    expect(batcher.stats.rows / batcher.stats.runs).toBeLessThanOrEqual(8);
  });

  it('lets a cancelled request leave without holding up the others', async () => {
    const batcher = new DenoiseBatcher(model.prior, { maxBatchRows: 64, maxQueueDelayMs: 1000 });
    const controller = new AbortController();
    const cancelled = (async () => {
      for await (const event of sampleEmbeddings(model, {
        user: { kind: 'row', row: 2 },
        count: 2,
        method: 'ddpm',
        seed: 8,
        signal: controller.signal,
        denoiser: batcher,
      })) {
        if (event.type === 'step' && event.step === 3) controller.abort();
      }
    })();
    const started = performance.now();
    const survivor = sampleToEnd(model, { ...(requests[0] as SampleOptions), denoiser: batcher });
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    expect(
      maxDifference(await survivor, await sampleToEnd(model, requests[0] as SampleOptions)),
    ).toBeLessThan(1e-4);
    // With a 1 s queue delay, waiting on the cancelled sampler would take seconds.
    expect(performance.now() - started).toBeLessThan(900);
  });

  it('rejects a bad request alone, before it can spoil a shared run', async () => {
    const batcher = new DenoiseBatcher(model.prior);
    const good = batcher.denoise({
      noisyEmbedding: new Float32Array(16),
      timestep: BigInt64Array.of(5n),
      userRow: BigInt64Array.of(0n),
      rating: BigInt64Array.of(1n),
    });
    const bad = batcher.denoise({
      noisyEmbedding: new Float32Array(16),
      timestep: BigInt64Array.of(100n),
      userRow: BigInt64Array.of(0n),
      rating: BigInt64Array.of(1n),
    });
    await expect(bad).rejects.toThrow(/timestep\[0\] = 100 is outside 0\.\.99/);
    expect(await good).toHaveLength(16);
  });
});

describe('input checks and loading errors', () => {
  it('names the given and expected names, dims and types', async () => {
    const error = await model.prior
      .run({
        noisyEmbedding: new Float32Array(2 * 15),
        timestep: BigInt64Array.of(1n, 2n),
        userRow: BigInt64Array.of(0n),
        rating: BigInt64Array.of(1n, 7n),
      })
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/noisy_embedding holds 30 values, expected 2 x 16/);
    expect(message).toMatch(/user_row has 1 rows, expected 2/);
    expect(message).toMatch(/rating\[1\] = 7 is outside 0\.\.2/);
    expect(message).toMatch(/Given: noisy_embedding float32 \[30 values\], timestep int64 \[2\]/);
    expect(message).toMatch(/Model takes: noisy_embedding float32 \[batch, 16\]/);
  });

  describe('with a damaged artifact', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rebeca-ml-'));
      await cp(FIXTURE, dir, { recursive: true });
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('lists every manifest problem at once', async () => {
      const manifest = JSON.parse(await readFile(join(FIXTURE, 'manifest.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      await writeFile(
        join(dir, 'manifest.json'),
        JSON.stringify({
          ...manifest,
          kind: 'dataset',
          standardization: { mean: [0], std: [1] },
          nullUserRow: 3,
        }),
      );
      const error = (await loadModel(dir).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/invalid model manifest/);
      expect(error.message).toMatch(/kind/);
      expect(error.message).toMatch(/has 1 values, expected embeddingDim = 16/);
      expect(error.message).toMatch(/nullUserRow/);
    });

    it('checks verifier file shapes against the manifest', async () => {
      const manifest = JSON.parse(await readFile(join(FIXTURE, 'manifest.json'), 'utf8')) as {
        verifier: { dim: number };
      };
      manifest.verifier.dim = 5;
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
      await expect(loadModel(dir)).rejects.toThrow(
        /verifier_Ma\.npy has shape \[16, 4\], the manifest implies \[16, 5\]/,
      );
    });

    it('reports a missing artifact plainly', async () => {
      await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(/no model artifact at .*nope/);
    });
  });

  it('fails clearly when CUDA is asked for and not available', async () => {
    await expect(loadModel(FIXTURE, { executionProvider: 'cuda' })).rejects.toMatchObject({
      name: 'ExecutionProviderError',
      message: expect.stringMatching(/CUDA|cuda/),
    });
  });
});
