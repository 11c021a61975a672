import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/lib/npy.js';
import { CatalogIndex, fitCatalogUser, loadModel, type RebecaModel } from '../../src/ml/index.js';

const DATASET = 'tests/fixtures/tiny-dataset';

let model: RebecaModel;
let index: CatalogIndex;
let ratings: { user: string; item: string; score: number }[];

beforeAll(async () => {
  model = await loadModel('tests/fixtures/tiny-model');
  // The fixture's titles hold no commas, so a plain split reads items.csv.
  const ids = (await readFile(`${DATASET}/items.csv`, 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',')[0] as string);
  const { shape, data } = await readNpy(`${DATASET}/embeddings.npy`);
  index = await CatalogIndex.build({ ids, embeddings: data, dim: shape[1] as number }, model.verifier);
  ratings = (await readFile(`${DATASET}/ratings.csv`, 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [user, item, score] = line.split(',');
      return { user: user as string, item: item as string, score: Number(score) };
    });
  return () => model.dispose();
});

function pearson(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  const meanA = a.reduce((s, v) => s + v, 0) / n;
  const meanB = b.reduce((s, v) => s + v, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i += 1) {
    ab += ((a[i] as number) - meanA) * ((b[i] as number) - meanB);
    aa += ((a[i] as number) - meanA) ** 2;
    bb += ((b[i] as number) - meanB) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('catalog retrieval on the tiny dataset with the tiny model', () => {
  it('scores every item as the verifier does one at a time', () => {
    const user = model.verifier.userRow('u03') as number;
    const scores = index.scoreCatalog(model.verifier.userFactors(user));
    for (const row of [0, 7, index.size - 1]) {
      const e = index.catalog.embeddings.subarray(row * index.catalog.dim, (row + 1) * index.catalog.dim);
      expect(scores[row]).toBeCloseTo(model.verifier.probability(user, e), 5);
    }
  });

  it("leaves out the user's rated items from the top K", () => {
    const user = model.verifier.userFactors(model.verifier.userRow('u00') as number);
    const rated = index.rowsOf(ratings.filter((r) => r.user === 'u00').map((r) => r.item));
    expect(rated.size).toBeGreaterThan(10);
    const unfiltered = index.topK(user, 20);
    expect(unfiltered.some((hit) => rated.has(hit.row))).toBe(true);
    const top = index.topK(user, 20, rated);
    expect(top).toHaveLength(20);
    expect(top.some((hit) => rated.has(hit.row))).toBe(false);
    expect(top.every((hit, i) => i === 0 || hit.score <= (top[i - 1]?.score ?? 1))).toBe(true);
  });

  it('fits a cold-start vector from ratings that ranks the catalog like the trained one', () => {
    // Users the tiny verifier learnt well (u09, for one, it barely learnt: trained AUC 0.52).
    for (const id of ['u01', 'u05', 'u07']) {
      const rated = ratingsOf(id);
      const fit = fitCatalogUser(index, rated, { l2: 0.1 });
      expect(fit.converged).toBe(true);
      const trained = index.scoreCatalog(model.verifier.userFactors(model.verifier.userRow(id) as number));
      const fitted = index.scoreCatalog(fit);
      expect(pearson(fitted, trained)).toBeGreaterThan(0.95);
      expect(auc(fitted, rated)).toBeGreaterThanOrEqual(auc(trained, rated) - 0.02);
    }
  });

  it('personalises a brand-new user from 10 ratings: their other ratings are ranked well', () => {
    const prior = model.verifier.meanUserFactors();
    for (const id of ['u00', 'u04', 'u06']) {
      const rated = ratingsOf(id);
      // 5 likes and 5 dislikes known; the rest held out.
      const known = [
        ...rated.filter((r) => r.liked).slice(0, 5),
        ...rated.filter((r) => !r.liked).slice(0, 5),
      ];
      const heldOut = rated.filter((r) => !known.includes(r));
      const started = performance.now();
      const fit = fitCatalogUser(index, known, { l2: 1, prior });
      expect(performance.now() - started).toBeLessThan(20);
      expect(auc(index.scoreCatalog(fit), heldOut)).toBeGreaterThan(0.75);
    }
  });

  it('finds the same nearest items in yielding chunks as in one scan', async () => {
    const query = index.catalog.embeddings.slice(7 * index.catalog.dim, 8 * index.catalog.dim);
    const yielding = await index.nearestYielding(query, 5, { chunkRows: 64 });
    expect(yielding).toEqual(index.nearest(query, 5));
    expect(yielding[0]?.id).toBe(index.catalog.ids[7]);
  });
});

function ratingsOf(user: string): { row: number; liked: boolean }[] {
  return ratings
    .filter((r) => r.user === user)
    .map((r) => ({ row: index.rowOf(r.item) as number, liked: r.score >= 4 }));
}

/** Share of (liked, disliked) pairs that the scores order correctly. */
function auc(scores: Float32Array, rated: { row: number; liked: boolean }[]): number {
  let correct = 0;
  let pairs = 0;
  for (const a of rated) {
    for (const b of rated) {
      if (!a.liked || b.liked) continue;
      pairs += 1;
      if ((scores[a.row] as number) > (scores[b.row] as number)) correct += 1;
    }
  }
  return correct / pairs;
}
