import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/lib/npy.js';
import {
  decodeEmbedding,
  generateWorld,
  likeProbability,
  loadWorld,
  readTruth,
  worldOptions,
  writeWorld,
  WORLD_FILES,
} from '../../src/world/index.js';
import { Rng } from '../../src/world/prng.js';

const scratch: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'world-test-'));
  scratch.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const entries = await Promise.all(
    Object.values(WORLD_FILES).map(async (name) => [name, await readFile(join(dir, name))] as const),
  );
  return Object.fromEntries(entries);
}

describe('seeded PRNG', () => {
  it('repeats a stream for the same seed and separates purposes', () => {
    const a = Array.from({ length: 5 }, () => Rng.stream(3, 'items').uniform());
    expect(new Set(a).size).toBe(1);
    expect(Rng.stream(3, 'items').uniform()).not.toBe(Rng.stream(3, 'users').uniform());
    const rng = new Rng(9);
    const normals = Array.from({ length: 20_000 }, () => rng.normal());
    const mean = normals.reduce((x, y) => x + y, 0) / normals.length;
    const variance = normals.reduce((x, y) => x + (y - mean) ** 2, 0) / normals.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeCloseTo(1, 1);
  });
});

describe('world generate', () => {
  it('writes byte-identical files for the same seed and preset, different worlds for other seeds', async () => {
    const [first, second, other] = await Promise.all([tempDir(), tempDir(), tempDir()]);
    await writeWorld(generateWorld(worldOptions('tiny', 5)), join(first, 'w'));
    await writeWorld(generateWorld(worldOptions('tiny', 5)), join(second, 'w'));
    await writeWorld(generateWorld(worldOptions('tiny', 6)), join(other, 'w'));
    const [a, b, c] = await Promise.all([
      filesOf(join(first, 'w')),
      filesOf(join(second, 'w')),
      filesOf(join(other, 'w')),
    ]);
    for (const name of Object.values(WORLD_FILES)) {
      expect(a[name]!.equals(b[name]!), name).toBe(true);
      expect(a[name]!.equals(c[name]!), name).toBe(false);
    }
  });

  it('follows docs/FORMATS.md: csv headers, ids, float32 [N, D] embeddings', async () => {
    const dir = join(await tempDir(), 'tiny');
    await writeWorld(generateWorld(worldOptions('tiny', 1)), dir);
    const items = (await readFile(join(dir, 'items.csv'), 'utf8')).trimEnd().split('\n');
    const ratings = (await readFile(join(dir, 'ratings.csv'), 'utf8')).trimEnd().split('\n');
    expect(items[0]).toBe('item_id,title,image_url');
    // No image URL: pictures are drawn from embeddings (IMAGE_DECODER=world:...).
    expect(items[1]).toMatch(/^w-000000,[^,]+,$/);
    expect(items).toHaveLength(121);
    expect(ratings[0]).toBe('user_id,item_id,score');
    for (const line of ratings.slice(1)) expect(line).toMatch(/^u-\d{3},w-\d{6},[1-5]$/);
    const { shape, data } = await readNpy(join(dir, 'embeddings.npy'));
    expect(shape).toEqual([120, 16]);
    // Raw, un-normalised, CLIP-like magnitudes.
    const norms = Array.from({ length: 120 }, (_, i) => Math.hypot(...data.subarray(i * 16, (i + 1) * 16)));
    expect(Math.min(...norms)).toBeGreaterThan(1.2);
    expect(Math.max(...data.map(Math.abs))).toBeLessThan(10);
    const truth = await readTruth(dir);
    expect(truth.oracle.description).toContain('sigmoid');
    expect(truth.counts).toEqual({ users: 6, items: 120, ratings: ratings.length - 1 });
  });

  it('replaces an earlier world in place and refuses a folder that is not a world', async () => {
    const root = await tempDir();
    const dir = join(root, 'w');
    await writeWorld(generateWorld(worldOptions('tiny', 1)), dir);
    await writeWorld(generateWorld(worldOptions('tiny', 2)), dir);
    expect((await readTruth(dir)).seed).toBe(2);
    await expect(writeWorld(generateWorld(worldOptions('tiny', 1)), root)).rejects.toThrow(
      /not a taste world/,
    );
  });

  it('generates the tiny preset in milliseconds and keeps the demo preset trainable', () => {
    const started = performance.now();
    generateWorld(worldOptions('tiny', 1));
    expect(performance.now() - started).toBeLessThan(500);
    const demo = generateWorld(worldOptions('demo', 1));
    const liked = new Map<number, number>();
    demo.ratings.score.forEach((score, r) => {
      if (score >= 4) liked.set(demo.ratings.user[r]!, (liked.get(demo.ratings.user[r]!) ?? 0) + 1);
    });
    expect(liked.size).toBe(24);
    expect(Math.min(...liked.values())).toBeGreaterThanOrEqual(40);
  });
});

describe('decoder', () => {
  it('recovers the attributes of catalog items from their embeddings', () => {
    for (const preset of ['tiny', 'demo'] as const) {
      const { world, embeddings, itemCodes, itemIds } = generateWorld(worldOptions(preset, 3));
      let correct = 0;
      itemIds.forEach((_, i) => {
        const { codes, svg } = decodeEmbedding(
          world,
          embeddings.subarray(i * world.dim, (i + 1) * world.dim),
        );
        if (codes.every((code, a) => code === itemCodes[i * 5 + a])) correct += 1;
        if (i === 0) expect(svg).toMatch(/^<svg [^>]*width="128" height="128"/);
      });
      // Exact for D >= 26 (orthogonal prototypes); D = 16 packs 26 prototypes and loses a few.
      expect(correct / itemIds.length, preset).toBeGreaterThanOrEqual(preset === 'tiny' ? 0.95 : 1);
    }
  });
});

describe('oracle', () => {
  it('matches the closed form written in truth.json, recomputed from the file alone', async () => {
    const dir = join(await tempDir(), 'w');
    await writeWorld(generateWorld(worldOptions('small', 4)), dir);
    const world = await loadWorld(dir);
    const truth = await readTruth(dir);
    const { data } = await readNpy(join(dir, 'embeddings.npy'));
    const D = truth.dim;
    const user = truth.users[3]!;
    for (const item of [0, 17, 599]) {
      const e = data.subarray(item * D, (item + 1) * D);
      const z = Array.from(e, (x, j) => (x - truth.embedding.mean[j]!) / truth.embedding.scale[j]!);
      let logit = user.bias;
      truth.attributes.forEach((attribute, a) => {
        const d2 = truth.embedding.prototypes[attribute.name]!.map(
          (q) => q.reduce((s, qj, j) => s + (z[j]! - qj) ** 2, 0) / D / truth.oracle.temperature,
        );
        const weights = d2.map((x) => Math.exp(-(x - Math.min(...d2))));
        const sum = weights.reduce((s, w) => s + w, 0);
        logit += weights.reduce((s, w, k) => s + (user.weights[a]![k]! * w) / sum, 0);
      });
      expect(likeProbability(world, user.id, e)).toBeCloseTo(1 / (1 + Math.exp(-logit)), 12);
    }
    expect(() => likeProbability(world, 'u-999', data.subarray(0, D))).toThrow(/unknown user/);
  });

  const python = (() => {
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!python)('agrees with the NumPy snippet stored in truth.json', async () => {
    const dir = join(await tempDir(), 'w');
    await writeWorld(generateWorld(worldOptions('tiny', 8)), dir);
    const world = await loadWorld(dir);
    const truth = await readTruth(dir);
    const { data } = await readNpy(join(dir, 'embeddings.npy'));
    const script = [
      'import numpy as np',
      "e = np.load('embeddings.npy').astype(np.float64)[5]",
      "user_id = 'u-002'",
      truth.oracle.numpy,
      'print(repr(float(prob)))',
    ].join('\n');
    const printed = execFileSync('python3', ['-c', script], { cwd: dir, encoding: 'utf8' });
    expect(Number(printed)).toBeCloseTo(likeProbability(world, 'u-002', data.subarray(5 * 16, 6 * 16)), 10);
  });
});
