import { ATTRIBUTES, ATTRIBUTE_VALUE_TOTAL } from './attributes.js';
import { attributePosteriors } from './oracle.js';
import { type WorldOptions } from './presets.js';
import { Rng, round6 } from './prng.js';
import { drawRatings, type RatingTable } from './ratings.js';
import { createSpace, embedInto } from './space.js';
import { createArchetypes, createUsers } from './tastes.js';
import { type World } from './types.js';

/** Oracle softmax temperature: a catalog item's true value gets ~0.98 of its attribute's posterior. */
export const ORACLE_TEMPERATURE = 0.05;

/** A generated world: ground truth plus the catalog and ratings that go to the import files. */
export interface GeneratedWorld {
  world: World;
  options: WorldOptions;
  itemIds: string[];
  /** Attribute codes, row-major [items, attributes]. */
  itemCodes: Uint8Array;
  /** Raw embeddings, row-major [items, D]. */
  embeddings: Float32Array;
  ratings: RatingTable;
}

export type ProgressReporter = (stage: string, fraction: number) => void;

export function itemId(index: number): string {
  return `w-${String(index).padStart(6, '0')}`;
}

export function generateWorld(options: WorldOptions, onProgress?: ProgressReporter): GeneratedWorld {
  const { seed, dim, items } = options;
  const space = createSpace(seed, dim);
  const attributeCount = ATTRIBUTES.length;

  // Values are not equally common (as in any real catalog); popularity is part of the seeded world.
  const itemRng = Rng.stream(seed, 'items');
  const popularity = ATTRIBUTES.map((attribute) => attribute.values.map(() => 0.5 + itemRng.uniform()));
  const itemCodes = new Uint8Array(items * attributeCount);
  const embeddings = new Float32Array(items * dim);
  const features = new Float64Array(items * ATTRIBUTE_VALUE_TOTAL);
  const codes = new Array<number>(attributeCount).fill(0);
  for (let i = 0; i < items; i += 1) {
    for (let a = 0; a < attributeCount; a += 1) {
      codes[a] = itemRng.weighted(popularity[a]!);
      itemCodes[i * attributeCount + a] = codes[a]!;
    }
    embedInto(space, codes, itemRng, embeddings, i * dim);
    // Posteriors from the float32 values that go to embeddings.npy, so ratings follow the file's oracle.
    attributePosteriors(
      space,
      ORACLE_TEMPERATURE,
      embeddings.subarray(i * dim, (i + 1) * dim),
      features.subarray(i * ATTRIBUTE_VALUE_TOTAL, (i + 1) * ATTRIBUTE_VALUE_TOTAL),
    );
    if (onProgress !== undefined && i % 2000 === 0) onProgress('items', i / items);
  }

  const archetypes = createArchetypes(seed);
  const users = createUsers(seed, options.users, archetypes, features, ATTRIBUTE_VALUE_TOTAL, items);
  const activityRng = Rng.stream(seed, 'activity');
  for (const user of users) user.activity = round6(Math.exp(options.activitySpread * activityRng.normal()));

  const world: World = {
    formatVersion: 1,
    seed,
    preset: options.preset,
    dim,
    temperature: ORACLE_TEMPERATURE,
    space,
    archetypes,
    users,
    userIndex: new Map(users.map((user, index) => [user.id, index])),
  };

  const userFeatureWeights = users.map((user) => Float64Array.from(user.weights.flat()));
  const logit = (u: number, i: number): number => {
    const w = userFeatureWeights[u]!;
    let s = users[u]!.bias;
    const base = i * ATTRIBUTE_VALUE_TOTAL;
    for (let f = 0; f < ATTRIBUTE_VALUE_TOTAL; f += 1) s += w[f]! * features[base + f]!;
    return s;
  };
  const ratings = drawRatings(
    Rng.stream(seed, 'ratings'),
    users,
    items,
    logit,
    { ratersPerItem: options.ratersPerItem, minLikedPerUser: options.minLikedPerUser },
    onProgress === undefined ? undefined : (fraction) => onProgress('ratings', fraction),
  );

  const itemIds = Array.from({ length: items }, (_, i) => itemId(i));
  return { world, options, itemIds, itemCodes, embeddings, ratings };
}
