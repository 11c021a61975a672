import { ATTRIBUTES } from './attributes.js';
import { sigmoid } from './oracle.js';
import { Rng, round6 } from './prng.js';
import { type WorldUser } from './types.js';

const ARCHETYPES = 6;
const FOCUS_WEIGHT = 2.2;
const BACKGROUND_WEIGHT = 0.6;
const INDIVIDUAL_VARIATION = 0.5;
const BREADTHS = [
  { breadth: 'broad', sharpness: 0.6, probability: 0.3 },
  { breadth: 'typical', sharpness: 1.0, probability: 0.45 },
  { breadth: 'narrow', sharpness: 1.6, probability: 0.25 },
] as const;

/** Zero mean within each attribute, so only the bias sets a user's overall like level. */
function centred(row: number[]): number[] {
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  return row.map((x) => x - mean);
}

/** Taste archetypes: each cares strongly about two attributes and a little about the rest. */
export function createArchetypes(seed: number): { name: string; weights: number[][] }[] {
  const rng = Rng.stream(seed, 'archetypes');
  return Array.from({ length: ARCHETYPES }, () => {
    const focus = new Set<number>();
    while (focus.size < 2) focus.add(rng.int(ATTRIBUTES.length));
    const weights = ATTRIBUTES.map((attribute, a) => {
      const importance = focus.has(a) ? FOCUS_WEIGHT : BACKGROUND_WEIGHT;
      return centred(attribute.values.map(() => importance * rng.normal()));
    });
    const favourites = [...focus]
      .sort((x, y) => x - y)
      .map((a) => {
        const row = weights[a] ?? [];
        return ATTRIBUTES[a]?.values[row.indexOf(Math.max(...row))] ?? '?';
      });
    return { name: `${favourites.join('+')} lover`, weights: weights.map((row) => row.map(round6)) };
  });
}

/**
 * Users: an archetype plus individual variation, scaled by breadth. `features(i)` gives catalog item i's
 * attribute posteriors; each user's bias is calibrated so that their expected like rate over the catalog
 * is a drawn target (0.32..0.52), which keeps the overall like share within 35-50%.
 */
export function createUsers(
  seed: number,
  count: number,
  archetypes: { weights: number[][] }[],
  features: Float64Array,
  featureWidth: number,
  items: number,
): WorldUser[] {
  const rng = Rng.stream(seed, 'users');
  const sample = Math.min(items, 3000);
  const users: WorldUser[] = [];
  for (let u = 0; u < count; u += 1) {
    const archetype = u < archetypes.length ? u : rng.int(archetypes.length);
    const base = archetypes[archetype]?.weights ?? [];
    const kind = BREADTHS[rng.weighted(BREADTHS.map((b) => b.probability))] ?? BREADTHS[1];
    const sharpness = round6(kind.sharpness * Math.exp(0.15 * rng.normal()));
    const weights = base.map((row) =>
      centred(row.map((w) => sharpness * (w + INDIVIDUAL_VARIATION * rng.normal()))).map(round6),
    );
    const targetLikeRate = 0.32 + 0.2 * rng.uniform();
    const scores = new Float64Array(sample);
    for (let i = 0; i < sample; i += 1) {
      let s = 0;
      let offset = 0;
      for (const row of weights) {
        for (let k = 0; k < row.length; k += 1) s += row[k]! * features[i * featureWidth + offset + k]!;
        offset += row.length;
      }
      scores[i] = s;
    }
    const bias = round6(calibrateBias(scores, targetLikeRate));
    users.push({
      id: `u-${String(u).padStart(3, '0')}`,
      archetype,
      breadth: kind.breadth,
      sharpness,
      bias,
      weights,
      leniency: round6(rng.normal()),
      activity: 0,
    });
  }
  return users;
}

/** The bias b with mean_i sigmoid(b + scores[i]) = target, by bisection. */
function calibrateBias(scores: Float64Array, target: number): number {
  let low = -30;
  let high = 30;
  for (let step = 0; step < 50; step += 1) {
    const mid = (low + high) / 2;
    let mean = 0;
    for (let i = 0; i < scores.length; i += 1) mean += sigmoid(mid + scores[i]!);
    mean /= scores.length;
    if (mean < target) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}
