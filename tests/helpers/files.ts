import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy } from '../../src/lib/npy.js';
import { tempDir as makeTempDir } from '../../src/lib/temp-dir.js';
import { Xoshiro128 } from '../../src/lib/xoshiro128.js';

/** A temporary folder removed by the returned cleanup. */
export function tempDir(prefix = 'rebeca-test-') {
  return makeTempDir(prefix);
}

export interface SmallDataset {
  itemIds: string[];
  embeddings: Float32Array;
  dim: number;
  ratings: { user: string; item: string; score: number }[];
}

export function makeDataset(
  items: number,
  dim: number,
  users: number,
  perUser: number,
  seed = 1,
): SmallDataset {
  const rng = new Xoshiro128(seed);
  const random = () => rng.nextFloat();
  const itemIds = Array.from({ length: items }, (_, i) => `img_${String(i).padStart(4, '0')}.jpg`);
  const embeddings = Float32Array.from({ length: items * dim }, () => random() * 4 - 2);
  const ratings: SmallDataset['ratings'] = [];
  for (let u = 0; u < users; u += 1) {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(perUser, items)) chosen.add(Math.floor(random() * items));
    for (const i of chosen)
      ratings.push({ user: `worker${u}`, item: itemIds[i] as string, score: 1 + Math.floor(random() * 5) });
  }
  return { itemIds, embeddings, dim, ratings };
}

/** Write items.csv, embeddings.npy and ratings.csv; `flickr` uses the FLICKR-AES header. */
export async function writeDataset(dir: string, data: SmallDataset, options: { flickr?: boolean } = {}) {
  const itemsCsv = [
    'item_id,title,image_url',
    ...data.itemIds.map((id, i) => `${id},"Photo ${i}, ""test""",`),
  ];
  await writeFile(join(dir, 'items.csv'), `${itemsCsv.join('\n')}\n`);
  await writeFile(join(dir, 'embeddings.npy'), encodeNpy(data.embeddings, [data.itemIds.length, data.dim]));
  const header = options.flickr ? ' worker, imagePair, score' : 'user_id,item_id,score';
  const lines = data.ratings.map((r) =>
    options.flickr ? ` ${r.user}, ${r.item}, ${r.score}` : `${r.user},${r.item},${r.score}`,
  );
  await writeFile(join(dir, 'ratings.csv'), `${[header, ...lines].join('\n')}\n`);
  return {
    items: join(dir, 'items.csv'),
    embeddings: join(dir, 'embeddings.npy'),
    ratings: join(dir, 'ratings.csv'),
  };
}
