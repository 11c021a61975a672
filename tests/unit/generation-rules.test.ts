import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataRangeOf, outOfRange } from '../../src/ml/data-range.js';
import { permutationTest } from '../../src/ml/permutation.js';
import { selectDiverse } from '../../src/ml/selection.js';
import { blendAnswer } from '../../src/services/blend.js';
import { type ProgressEvent } from '../../src/services/generation/events.js';
import { ProgressFilter, progressEvent } from '../../src/services/generation/progress.js';
import { type JobRecord } from '../../src/records.js';

const logit = (p: number) => Math.log(p / (1 - p));

describe('blendAnswer', () => {
  const catalog = [0.99, 0.97, 0.95, 0.93, 0.9].map((score, i) => ({ score, value: `c${i}` }));

  it('gives generated items at most `slots` places, each only above the catalog item it displaces by the margin', () => {
    const generated = [0.999, 0.98, 0.2].map((score, i) => ({ score, value: `g${i}` }));
    const answer = blendAnswer(catalog, generated, 5, 2, 1);
    // g0 (logit 6.9) displaces c4 (2.2): in. g1 (3.9) would displace c3 (2.6): 3.9 - 1 >= 2.6, in.
    expect(answer.map((entry) => entry.value)).toEqual(['g0', 'c0', 'g1', 'c1', 'c2']);
    expect(answer.find((entry) => entry.value === 'g1')).toMatchObject({ displacedScore: 0.93 });
    for (const entry of answer) {
      if (entry.source === 'generated' && entry.displacedScore !== null) {
        expect(logit(entry.score) - 1).toBeGreaterThanOrEqual(logit(entry.displacedScore));
      }
    }
  });

  it('keeps the catalog answer when no generated item clears the margin, or with no slots', () => {
    const close = [{ score: 0.92, value: 'g' }];
    expect(blendAnswer(catalog, close, 5, 2, 1).map((entry) => entry.value)).toEqual([
      'c0',
      'c1',
      'c2',
      'c3',
      'c4',
    ]);
    const great = [{ score: 0.9999, value: 'g' }];
    expect(blendAnswer(catalog, great, 5, 0, 1).every((entry) => entry.source === 'catalog')).toBe(true);
  });

  it('fills places a short catalog leaves empty', () => {
    const answer = blendAnswer(catalog.slice(0, 2), [{ score: 0.1, value: 'g' }], 5, 1, 1);
    expect(answer.map((entry) => entry.value)).toEqual(['c0', 'c1', 'g']);
    expect(answer[2]).toMatchObject({ source: 'generated', displacedScore: null });
  });
});

describe('ProgressFilter', () => {
  const job = (status: JobRecord['status']): JobRecord => ({
    id: '00000000-0000-0000-0000-000000000001',
    userId: 1,
    modelVersionId: 1,
    status,
    count: 1,
    sampler: 'ddim',
    steps: 10,
    guidanceScale: 3,
    verifierScale: 0,
    candidates: 1,
    seed: 1,
    step: 0,
    errorCode: null,
    errorMessage: null,
    createdAt: new Date(0),
    startedAt: new Date(0),
    finishedAt: null,
    apiKeyId: null,
  });
  const at = (seq: number, status: JobRecord['status'], step: number) => ({
    seq,
    event: progressEvent(job(status), { step, previewScore: null, previewNearest: null }) as ProgressEvent,
  });

  it('passes each numbered event once, every state change, every k-th step and the last', () => {
    const filter = new ProgressFilter(3);
    const stream = [
      at(1, 'queued', 0),
      at(2, 'running', 0),
      ...Array.from({ length: 10 }, (_, i) => at(3 + i, 'running', i + 1)),
      at(5, 'running', 3), // a repeat (the replay and the live stream overlap)
      at(13, 'succeeded', 10),
    ];
    const passed = stream
      .filter((event) => filter.admit(event))
      .map((e) => `${e.event.job.status}:${e.event.step}`);
    expect(passed).toEqual([
      'queued:0',
      'running:0',
      'running:3',
      'running:6',
      'running:9',
      'running:10',
      'succeeded:10',
    ]);
  });

  it('passes a job started over (a dead worker) because its events are numbered anew', () => {
    const filter = new ProgressFilter(1);
    expect(filter.admit(at(4, 'running', 3))).toBe(true);
    expect(filter.admit(at(5, 'running', 0))).toBe(true);
    expect(filter.admit(at(6, 'running', 1))).toBe(true);
  });
});

describe('permutationTest', () => {
  const fixture = JSON.parse(readFileSync('tests/fixtures/permutation-case.json', 'utf8')) as {
    users: number;
    owner: number[];
    scores: number[][];
    statistic: number;
    ownVsOthersGap: number;
    nullMean: number;
  };

  it('matches the fixed case shared with the Python implementation', () => {
    const result = permutationTest(
      fixture.scores.flat(),
      Int32Array.from(fixture.owner),
      fixture.users,
      5000,
      1,
    );
    expect(result.statistic).toBeCloseTo(fixture.statistic, 12);
    expect(result.ownVsOthersGap).toBeCloseTo(fixture.ownVsOthersGap, 12);
    // The null's mean is each user's mean score over all samples, averaged: the shuffles approach it.
    expect(Math.abs(result.permutationMean - fixture.nullMean)).toBeLessThan(0.01);
    expect(result.z).toBeGreaterThan(3);
    // 1,680 distinct assignments exist: a few shuffles land on the real one.
    expect(result.pValue).toBeLessThan(0.002);
  });

  it('finds nothing in scores that ignore the owner', () => {
    const scores = fixture.scores.flat().map((_, i) => (i % fixture.users) / 10);
    const result = permutationTest(scores, Int32Array.from(fixture.owner), fixture.users, 200, 2);
    expect(result.z).toBe(0);
    expect(result.pValue).toBe(1);
  });
});

describe('selection and the data range', () => {
  it('picks the best eligible rows under the diversity floor', () => {
    // Rows 0 and 1 point the same way; row 2 elsewhere; row 3 is best but out of range.
    const standardized = Float32Array.from([1, 0, 0.99, 0.1, 0, 1, 1, 1]);
    const picked = selectDiverse([0.8, 0.7, 0.5, 0.9], standardized, 2, 2, 0.9, [true, true, true, false]);
    expect(picked).toEqual([0, 2]);
    // Without the floor the two alike rows win.
    expect(selectDiverse([0.8, 0.7, 0.5, 0.9], standardized, 2, 2, 1, [true, true, true, false])).toEqual([
      0, 1,
    ]);
  });

  it("says why a sample lies outside the catalog's range", () => {
    const catalog = Float32Array.from([1, 2, 2, 1, 1.5, 1.5]);
    const standardization = { mean: Float32Array.from([1.5, 1.5]), std: Float32Array.from([0.5, 0.5]) };
    const range = dataRangeOf(catalog, 3, standardization);
    expect(outOfRange(Float32Array.from([1.2, 1.8]), range, standardization)).toBeNull();
    expect(outOfRange(Float32Array.from([Number.NaN, 1]), range, standardization)).toMatch(/not finite/);
    expect(outOfRange(Float32Array.from([30, 30]), range, standardization)).toMatch(/norm 42.43 is outside/);
    expect(outOfRange(Float32Array.from([2.1, 1.4]), range, standardization)).toMatch(/dimension 0/);
  });
});
