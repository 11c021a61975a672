import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { encodeNpy } from '../lib/npy.js';
import { attributeTitle, ATTRIBUTES } from './attributes.js';
import { type GeneratedWorld } from './generate.js';
import { formatTruth, truthFromGenerated, type TruthFile, worldFromTruth } from './truth.js';
import { type World } from './types.js';
import { csvField } from '../lib/csv.js';

export const WORLD_FILES = {
  items: 'items.csv',
  embeddings: 'embeddings.npy',
  ratings: 'ratings.csv',
  truth: 'truth.json',
} as const;

/** RFC 4180 field quoting. */
function itemsCsv(generated: GeneratedWorld): string {
  const lines = ['item_id,title,image_url'];
  const n = ATTRIBUTES.length;
  generated.itemIds.forEach((id, i) => {
    const codes = generated.itemCodes.subarray(i * n, (i + 1) * n);
    // No image URL: the world's pictures are drawn from embeddings (IMAGE_DECODER=world:...), and image
    // URLs are http, https or data:image only.
    lines.push(`${csvField(id)},${csvField(attributeTitle(codes))},`);
  });
  return `${lines.join('\n')}\n`;
}

function ratingsCsv(generated: GeneratedWorld): string {
  const { ratings, world, itemIds } = generated;
  const parts: string[] = ['user_id,item_id,score\n'];
  for (let r = 0; r < ratings.score.length; r += 1) {
    parts.push(`${world.users[ratings.user[r]!]!.id},${itemIds[ratings.item[r]!]!},${ratings.score[r]!}\n`);
  }
  return parts.join('');
}

/**
 * Write the import files and truth.json into `out`, atomically: everything goes to a sibling temporary
 * folder that is renamed at the end, so a failure never leaves half a world. An existing world in `out`
 * is replaced; any other non-empty folder is refused.
 */
export async function writeWorld(generated: GeneratedWorld, out: string): Promise<void> {
  const existing = await stat(out).catch(() => null);
  if (existing !== null) {
    const isWorld = await stat(join(out, WORLD_FILES.truth)).catch(() => null);
    if (!existing.isDirectory() || isWorld === null) {
      const { readdir } = await import('node:fs/promises');
      if (!existing.isDirectory() || (await readdir(out)).length > 0) {
        throw new Error(`${out} exists and is not a taste world; choose another --out`);
      }
    }
  }
  await mkdir(dirname(out), { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const temporary = join(dirname(out), `.${basename(out)}.tmp-${suffix}`);
  await mkdir(temporary);
  try {
    const items = generated.itemIds.length;
    await writeFile(join(temporary, WORLD_FILES.items), itemsCsv(generated));
    await writeFile(
      join(temporary, WORLD_FILES.embeddings),
      encodeNpy(generated.embeddings, [items, generated.world.dim]),
    );
    await writeFile(join(temporary, WORLD_FILES.ratings), ratingsCsv(generated));
    await writeFile(join(temporary, WORLD_FILES.truth), formatTruth(truthFromGenerated(generated)));
    if (existing !== null) {
      const old = join(dirname(out), `.${basename(out)}.old-${suffix}`);
      await rename(out, old);
      await rename(temporary, out);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temporary, out);
    }
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

export async function readTruth(dir: string): Promise<TruthFile> {
  return JSON.parse(await readFile(join(dir, WORLD_FILES.truth), 'utf8')) as TruthFile;
}

/** Load a world's ground truth (for the oracle and the decoder) from a folder written by writeWorld. */
export async function loadWorld(dir: string): Promise<World> {
  return worldFromTruth(await readTruth(dir));
}

/** Ratings of a world folder as (user, item, score) rows; only our own simple CSV is expected. */
export async function readWorldRatings(
  dir: string,
): Promise<{ userId: string; itemId: string; score: number }[]> {
  const text = await readFile(join(dir, WORLD_FILES.ratings), 'utf8');
  return text
    .split('\n')
    .slice(1)
    .filter((line) => line.length > 0)
    .map((line) => {
      const [userId = '', itemId = '', score = '0'] = line.split(',');
      return { userId, itemId, score: Number(score) };
    });
}
