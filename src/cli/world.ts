import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readNpy } from '../lib/npy.js';
import {
  contactSheet,
  decodeEmbedding,
  generateWorld,
  isPresetName,
  likeProbability,
  loadWorld,
  PRESETS,
  readTruth,
  readWorldRatings,
  worldOptions,
  writeWorld,
} from '../world/index.js';
import { type CliCommand, integerFlag, parseFlags, requireFlag, UsageError } from './command.js';

const help = `Subcommands:
  generate --seed S --preset P --out DIR [--dim D] [--users N] [--items N]
      Write items.csv, embeddings.npy, ratings.csv and truth.json (ground truth) into DIR.
      Presets: ${Object.entries(PRESETS)
        .map(([name, p]) => `${name} (${p.users} users, ${p.items} items, D ${p.dim})`)
        .join(', ')}.
  sheet --world DIR --user U --out FILE.svg [--per-side N]
      Contact sheet of the user's liked items beside their disliked ones.
  decode --world DIR --item ID   Decode a catalog item's embedding back to attributes.
  oracle --world DIR --user U --item ID   The true P(like) of a catalog item for a user.`;

async function generate(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    seed: { type: 'string' },
    preset: { type: 'string' },
    out: { type: 'string' },
    dim: { type: 'string' },
    users: { type: 'string' },
    items: { type: 'string' },
  });
  const preset = requireFlag(flags.preset, 'preset');
  if (!isPresetName(preset))
    throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
  const seed = integerFlag(requireFlag(flags.seed, 'seed'), 'seed', 0);
  if (seed > 0xffffffff) throw new UsageError('--seed must fit in 32 bits');
  const out = requireFlag(flags.out, 'out');
  const options = worldOptions(preset, seed, {
    dim: flags.dim === undefined ? undefined : integerFlag(flags.dim, 'dim', 0, 2),
    users: flags.users === undefined ? undefined : integerFlag(flags.users, 'users', 0, 1),
    items: flags.items === undefined ? undefined : integerFlag(flags.items, 'items', 0, 1),
  });
  const started = Date.now();
  let lastReport = started;
  const generated = generateWorld(options, (stage, fraction) => {
    const now = Date.now();
    if (now - started > 1000 && now - lastReport > 500) {
      lastReport = now;
      process.stderr.write(`\rworld: ${stage} ${(fraction * 100).toFixed(0).padStart(3)}%   `);
    }
  });
  if (Date.now() - started > 1000) process.stderr.write('\rworld: writing files        \n');
  await writeWorld(generated, out);
  const liked = generated.ratings.score.reduce((n, s) => n + (s >= 4 ? 1 : 0), 0);
  console.log(
    `world ${preset} seed ${seed}: ${options.users} users, ${options.items} items, D ${options.dim}, ` +
      `${generated.ratings.score.length} ratings (${((100 * liked) / generated.ratings.score.length).toFixed(1)}% liked) ` +
      `-> ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function sheet(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    world: { type: 'string' },
    user: { type: 'string' },
    out: { type: 'string' },
    'per-side': { type: 'string' },
  });
  const dir = requireFlag(flags.world, 'world');
  const userId = requireFlag(flags.user, 'user');
  const out = requireFlag(flags.out, 'out');
  const truth = await readTruth(dir);
  if (!truth.users.some((user) => user.id === userId)) throw new UsageError(`no user ${userId} in ${dir}`);
  const ratings = (await readWorldRatings(dir)).filter((rating) => rating.userId === userId);
  const perSide = integerFlag(flags['per-side'], 'per-side', 12, 1);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, contactSheet(truth, userId, ratings, { perSide }));
  console.log(`contact sheet of ${userId} (${ratings.length} ratings) -> ${out}`);
}

async function catalogEmbedding(dir: string, itemId: string): Promise<Float32Array> {
  const index = /^w-(\d+)$/.exec(itemId)?.[1];
  const { shape, data } = await readNpy(`${dir}/embeddings.npy`);
  const [rows = 0, dim = 0] = shape;
  if (index === undefined || Number(index) >= rows) throw new UsageError(`no item ${itemId} in ${dir}`);
  return data.subarray(Number(index) * dim, (Number(index) + 1) * dim);
}

async function decode(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { world: { type: 'string' }, item: { type: 'string' } });
  const dir = requireFlag(flags.world, 'world');
  const world = await loadWorld(dir);
  const decoded = decodeEmbedding(world, await catalogEmbedding(dir, requireFlag(flags.item, 'item')));
  console.log(JSON.stringify({ attributes: decoded.attributes, residual: decoded.residual }, null, 2));
}

async function oracle(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, {
    world: { type: 'string' },
    user: { type: 'string' },
    item: { type: 'string' },
  });
  const dir = requireFlag(flags.world, 'world');
  const world = await loadWorld(dir);
  const embedding = await catalogEmbedding(dir, requireFlag(flags.item, 'item'));
  console.log(likeProbability(world, requireFlag(flags.user, 'user'), embedding).toFixed(6));
}

const subcommands: Record<string, (argv: string[]) => Promise<void>> = { generate, sheet, decode, oracle };

export const worldCommand: CliCommand = {
  name: 'world',
  summary: 'Generate and inspect the synthetic taste world (demo and test data with known ground truth).',
  help,
  async run(argv) {
    const [name, ...rest] = argv;
    const subcommand = name === undefined ? undefined : subcommands[name];
    if (subcommand === undefined)
      throw new UsageError(`expected a subcommand: ${Object.keys(subcommands).join(', ')}`);
    await subcommand(rest);
  },
};
