import { describe, expect, it } from 'vitest';
import { generateWorld, worldOptions } from '../../src/world/index.js';
import {
  catalogFeatures,
  heldOutAuc,
  ratingStatistics,
  rocAuc,
  topItemOverlap,
} from '../../src/world/measure.js';

describe('taste world ground truth', () => {
  const demo = generateWorld(worldOptions('demo', 11));
  const features = catalogFeatures(demo);

  it('computes AUC with ties counted half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([1, 1], [true, false])).toBe(0.5);
  });

  it('makes ratings learnable: a per-user logistic model reaches a high held-out AUC', () => {
    const auc = heldOutAuc(demo, features);
    console.info(`demo held-out AUC: fitted ${auc.fitted.toFixed(3)}, oracle ${auc.oracle.toFixed(3)}`);
    expect(auc.fitted).toBeGreaterThan(0.8);
    expect(auc.oracle).toBeGreaterThan(auc.fitted - 0.02);
  });

  it('gives users different tastes: their top-50 items barely overlap', () => {
    const overlap = topItemOverlap(demo, 50, features);
    console.info(`demo mean pairwise Jaccard of top-50 items: ${overlap.toFixed(3)}`);
    expect(overlap).toBeLessThan(0.2);
  });

  it('has FLICKR-AES shaped ratings: 35-50% liked, long-tailed ratings per user', () => {
    const stats = ratingStatistics(demo);
    expect(stats.likeRate).toBeGreaterThan(0.35);
    expect(stats.likeRate).toBeLessThan(0.5);
    expect(stats.perUser.max).toBeGreaterThan(2 * stats.perUser.median);
    expect(stats.ratings).toBeGreaterThan(11_000);
    const flickrLike = ratingStatistics(
      generateWorld(worldOptions('flickr', 1, { dim: 8, items: 8000, users: 210 })),
    );
    expect(flickrLike.perUser.gini).toBeGreaterThan(0.5);
    expect(flickrLike.meanRatersPerItem).toBeCloseTo(5, 0);
  });
});
