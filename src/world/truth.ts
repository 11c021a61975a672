import { ATTRIBUTES } from './attributes.js';
import { type GeneratedWorld } from './generate.js';
import { ORACLE_DESCRIPTION, ORACLE_NUMPY } from './oracle.js';
import { type World, type WorldUser } from './types.js';

/** The ground-truth file: everything about the world the gateway must never see when serving. */
export interface TruthFile {
  formatVersion: 1;
  kind: 'rebeca-world-truth';
  seed: number;
  preset: string;
  dim: number;
  options: Record<string, number | string>;
  counts: { users: number; items: number; ratings: number };
  attributes: { name: string; values: string[] }[];
  embedding: {
    note: string;
    mean: number[];
    scale: number[];
    noise: number;
    prototypes: Record<string, number[][]>;
  };
  oracle: { temperature: number; description: string; numpy: string };
  archetypes: { name: string; weights: number[][] }[];
  users: WorldUser[];
  /** Attribute codes of catalog item i (row i of items.csv), in `attributes` order. */
  itemAttributes: number[][];
}

export function truthFromGenerated(generated: GeneratedWorld): TruthFile {
  const { world, options, itemCodes, ratings } = generated;
  const { space } = world;
  const attributeCount = ATTRIBUTES.length;
  const itemAttributes: number[][] = [];
  for (let i = 0; i < itemCodes.length / attributeCount; i += 1) {
    itemAttributes.push(Array.from(itemCodes.subarray(i * attributeCount, (i + 1) * attributeCount)));
  }
  const prototypes: Record<string, number[][]> = {};
  ATTRIBUTES.forEach((attribute, a) => {
    const block = space.prototypes[a]!;
    prototypes[attribute.name] = attribute.values.map((_, k) =>
      Array.from(block.subarray(k * space.dim, (k + 1) * space.dim)),
    );
  });
  return {
    formatVersion: 1,
    kind: 'rebeca-world-truth',
    seed: world.seed,
    preset: world.preset,
    dim: world.dim,
    options: { ...options },
    counts: { users: world.users.length, items: itemAttributes.length, ratings: ratings.score.length },
    attributes: ATTRIBUTES.map((attribute) => ({ name: attribute.name, values: [...attribute.values] })),
    embedding: {
      note:
        'e = mean + scale * (sum_a prototypes[a][value_a] + noise * N(0, I)); prototypes are in whitened ' +
        'units z = (e - mean) / scale',
      mean: Array.from(space.mean),
      scale: Array.from(space.scale),
      noise: space.noise,
      prototypes,
    },
    oracle: { temperature: world.temperature, description: ORACLE_DESCRIPTION, numpy: ORACLE_NUMPY },
    archetypes: world.archetypes,
    users: world.users,
    itemAttributes,
  };
}

export function worldFromTruth(truth: TruthFile): World {
  if (truth.kind !== 'rebeca-world-truth' || truth.formatVersion !== 1) {
    throw new Error('not a taste-world truth.json (kind rebeca-world-truth, formatVersion 1)');
  }
  const dim = truth.dim;
  const prototypes = ATTRIBUTES.map((attribute) => {
    const rows = truth.embedding.prototypes[attribute.name];
    if (rows === undefined || rows.length !== attribute.values.length) {
      throw new Error(`truth.json: prototypes for ${attribute.name} missing or of the wrong size`);
    }
    const block = new Float64Array(rows.length * dim);
    rows.forEach((row, k) => block.set(row, k * dim));
    return block;
  });
  return {
    formatVersion: 1,
    seed: truth.seed,
    preset: truth.preset,
    dim,
    temperature: truth.oracle.temperature,
    space: {
      dim,
      mean: Float64Array.from(truth.embedding.mean),
      scale: Float64Array.from(truth.embedding.scale),
      noise: truth.embedding.noise,
      prototypes,
    },
    archetypes: truth.archetypes,
    users: truth.users,
    userIndex: new Map(truth.users.map((user, index) => [user.id, index])),
  };
}

/** Indented JSON with number arrays kept on one line (a D = 1024 vector is one line, not 1024). */
export function formatTruth(truth: TruthFile): string {
  const text = JSON.stringify(truth, null, 2);
  return `${text.replace(/\[\s+([-\d.e+,\s]+?)\s+\]/g, (_, inner: string) => `[${inner.replace(/\s+/g, '')}]`)}\n`;
}
