import { describe, expect, it } from 'vitest';
import { CatalogIndex } from '../../src/ml/catalog.js';
import { fitCatalogUser, fitUserFactors } from '../../src/ml/cold-start.js';
import { SeededRandom } from '../../src/ml/rng.js';
import { sigmoid, Verifier } from '../../src/ml/verifier.js';

const D = 24;
const d = 6;
const N = 3000;

function normals(rng: SeededRandom, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  rng.fillNormal(out);
  return out.map((v) => v * scale);
}

function syntheticWorld(seed: number) {
  const rng = new SeededRandom(seed);
  const verifier = new Verifier({
    embeddingDim: D,
    rank: d,
    itemProjection: normals(rng, D * d, 0.4),
    itemBias: normals(rng, D, 0.05),
    userVectors: normals(rng, 3 * d),
    userBiases: normals(rng, 3, 0.1),
    users: ['ann', 'bob', 'cy'],
  });
  const ids = Array.from({ length: N }, (_, i) => `item-${i}`);
  return { rng, verifier, catalog: { ids, embeddings: normals(rng, N * D), dim: D } };
}

/** The verifier's formula written out directly, as the reference. */
function directProbability(verifier: Verifier, row: number, e: Float32Array): number {
  const { itemProjection: Ma, itemBias: mb, userVectors: theta, userBiases: bu } = verifier.params;
  let z = bu[row] as number;
  for (let k = 0; k < D; k += 1) z += (mb[k] as number) * (e[k] as number);
  for (let j = 0; j < d; j += 1) {
    let f = 0;
    for (let k = 0; k < D; k += 1) f += (Ma[k * d + j] as number) * (e[k] as number);
    z += (theta[row * d + j] as number) * f;
  }
  return sigmoid(z);
}

describe('Verifier', () => {
  const { verifier, catalog } = syntheticWorld(1);

  it('computes sigmoid(theta . Ma^T e + b_u + mb . e)', () => {
    const e = catalog.embeddings.subarray(0, D);
    expect(verifier.probability(1, e)).toBeCloseTo(directProbability(verifier, 1, e), 5);
    expect(verifier.probability(verifier.userFactors(1), e)).toBeCloseTo(
      directProbability(verifier, 1, e),
      5,
    );
    expect(verifier.userRow('cy')).toBe(2);
    expect(verifier.userRow('nobody')).toBeUndefined();
  });

  it('says which width is wrong', () => {
    expect(() => verifier.probability(0, new Float32Array(D + 1))).toThrow(/width 25 .* 24/);
    expect(() => verifier.userFactors(3)).toThrow(/0\.\.2/);
  });
});

describe('CatalogIndex', () => {
  it('scores the whole catalog as the verifier does one item at a time', async () => {
    const { verifier, catalog } = syntheticWorld(2);
    const index = await CatalogIndex.build(catalog, verifier);
    const scores = index.scoreCatalog(verifier.userFactors(0));
    for (const row of [0, 17, N - 1]) {
      const e = catalog.embeddings.subarray(row * D, (row + 1) * D);
      expect(scores[row]).toBeCloseTo(directProbability(verifier, 0, e), 5);
    }
  });

  it('returns the top k in order and skips excluded rows', async () => {
    const { verifier, catalog } = syntheticWorld(3);
    const index = await CatalogIndex.build(catalog, verifier);
    const user = verifier.userFactors(1);
    const scores = index.scoreCatalog(user);
    const ranked = Array.from(scores.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number));
    const top = index.topK(user, 20);
    expect(top.map((hit) => hit.row)).toEqual(ranked.slice(0, 20));
    expect(top[0]?.id).toBe(`item-${ranked[0]}`);
    expect(top[0]?.score).toBeCloseTo(scores[ranked[0] as number] as number, 6);

    const rated = index.rowsOf(ranked.slice(0, 5).map((row) => `item-${row}`));
    const filtered = index.topK(user, 20, rated);
    expect(filtered.map((hit) => hit.row)).toEqual(ranked.slice(5, 25));
    expect(index.topK(user, 0)).toEqual([]);
    expect(index.topK(user, N + 10)).toHaveLength(N);
  });

  it('finds nearest items by cosine, ignoring scale', async () => {
    const { verifier, catalog } = syntheticWorld(4);
    const index = await CatalogIndex.build(catalog, verifier);
    const query = catalog.embeddings.slice(42 * D, 43 * D).map((v) => v * 3.5);
    const hits = index.nearest(query, 3);
    expect(hits[0]?.row).toBe(42);
    expect(hits[0]?.score).toBeCloseTo(1, 5);
    expect(hits[1]?.score).toBeLessThan(1);
    expect(index.nearest(query, 1, new Set([42]))[0]?.row).toBe(hits[1]?.row);
  });

  it('rejects a catalog of the wrong width', async () => {
    const { verifier } = syntheticWorld(5);
    await expect(
      CatalogIndex.build({ ids: ['a'], embeddings: new Float32Array(D + 1), dim: D + 1 }, verifier),
    ).rejects.toThrow(/width 25 .* 24/);
  });
});

describe('cold start', () => {
  it('recovers a known user vector from its ratings', async () => {
    const { rng, verifier, catalog } = syntheticWorld(6);
    const index = await CatalogIndex.build(catalog, verifier);
    const truth = { vector: normals(rng, d), bias: 0.3 };
    const probabilities = index.scoreCatalog(truth);
    const ratings = Array.from(probabilities, (p, row) => ({ row, liked: rng.nextFloat() < p }));
    const fit = fitCatalogUser(index, ratings, { l2: 1e-3 });
    expect(fit.converged).toBe(true);
    let dot = 0;
    let normFit = 0;
    let normTruth = 0;
    for (let j = 0; j < d; j += 1) {
      dot += (fit.vector[j] as number) * (truth.vector[j] as number);
      normFit += (fit.vector[j] as number) ** 2;
      normTruth += (truth.vector[j] as number) ** 2;
    }
    expect(dot / Math.sqrt(normFit * normTruth)).toBeGreaterThan(0.98);
    expect(Math.sqrt(normFit / normTruth)).toBeGreaterThan(0.85);
    expect(Math.sqrt(normFit / normTruth)).toBeLessThan(1.15);
    expect(fit.bias).toBeCloseTo(0.3, 0);
  });

  it('personalises a new user from 10 ratings in milliseconds and ranks their likes higher', async () => {
    const { rng, verifier, catalog } = syntheticWorld(7);
    const index = await CatalogIndex.build(catalog, verifier);
    const truth = { vector: normals(rng, d), bias: 0 };
    const truthScores = index.scoreCatalog(truth);
    const ranked = Array.from(truthScores.keys()).sort(
      (a, b) => (truthScores[b] as number) - (truthScores[a] as number),
    );
    const ratings = [
      ...ranked.slice(0, 5).map((row) => ({ row, liked: true })),
      ...ranked.slice(-5).map((row) => ({ row, liked: false })),
    ];
    const started = performance.now();
    const fit = fitCatalogUser(index, ratings, { l2: 1, prior: verifier.meanUserFactors() });
    expect(performance.now() - started).toBeLessThan(50);
    const fitted = index.scoreCatalog(fit);
    // Items the user truly likes should score above items they truly dislike.
    let agree = 0;
    for (let k = 0; k < 500; k += 1) {
      const good = ranked[Math.floor(rng.nextFloat() * 300)] as number;
      const bad = ranked[N - 1 - Math.floor(rng.nextFloat() * 300)] as number;
      if ((fitted[good] as number) > (fitted[bad] as number)) agree += 1;
    }
    expect(agree / 500).toBeGreaterThan(0.9);
  });

  it('lands on the optimum (zero gradient) with fewer and with more ratings than unknowns', () => {
    const rng = new SeededRandom(8);
    const prior = { vector: normals(rng, d, 0.5), bias: 0.2 };
    for (const n of [4, 10, 400]) {
      const features = normals(rng, n * d);
      const offsets = normals(rng, n, 0.3);
      const labels = Array.from({ length: n }, () => (rng.nextFloat() < 0.4 ? 1 : 0));
      const l2 = 0.7;
      const fit = fitUserFactors(features, offsets, labels, { l2, prior });
      expect(fit.converged).toBe(true);
      // d/dw of sum BCE + l2/2 |w - prior|^2, at the fit.
      const gradient = new Float64Array(d + 1);
      for (let j = 0; j < d; j += 1)
        gradient[j] = l2 * ((fit.vector[j] as number) - (prior.vector[j] as number));
      gradient[d] = l2 * (fit.bias - prior.bias);
      for (let i = 0; i < n; i += 1) {
        let z = (offsets[i] as number) + fit.bias;
        for (let j = 0; j < d; j += 1) z += (features[i * d + j] as number) * (fit.vector[j] as number);
        const residual = sigmoid(z) - (labels[i] as number);
        for (let j = 0; j < d; j += 1)
          gradient[j] = (gradient[j] as number) + residual * (features[i * d + j] as number);
        gradient[d] = (gradient[d] as number) + residual;
      }
      for (const g of gradient) expect(Math.abs(g)).toBeLessThan(1e-5);
    }
  });

  it('stays at the prior with no ratings and is finite when every rating agrees', () => {
    const prior = { vector: Float32Array.from([1, 2]), bias: -1 };
    const empty = fitUserFactors(new Float32Array(0), new Float32Array(0), [], { prior });
    expect(Array.from(empty.vector)).toEqual([1, 2]);
    expect(empty.bias).toBe(-1);
    const allLiked = fitUserFactors(Float32Array.from([1, 0, 0, 1]), new Float32Array(2), [1, 1]);
    expect(allLiked.converged).toBe(true);
    expect(Number.isFinite(allLiked.bias)).toBe(true);
    expect(allLiked.bias).toBeGreaterThan(0);
  });
});
