/**
 * Import throughput (issue 2): items (with embeddings) and ratings into on-disk PGlite and PostgreSQL.
 *   npx tsx bench/import-throughput.ts [--runs N] [--postgres URL] [--data DIR]
 *       [--batch-sizes 1000,5000,20000] [--engines postgres,pglite] [--streaming-scale K] [--json FILE]
 * Without --data the flickr world (seed 1: 40,000 items x 1024, ~200k ratings) is generated into a
 * temporary folder by the CLI. Every import runs on a fresh database: per run, items go into a new
 * database; each ratings import then runs on its own copy of that items-only database (PGlite: a copy of
 * the data folder; PostgreSQL: `create database ... template ...`). Results are printed as markdown.
 * See bench/README-import.md.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../src/db/client.js';
import { importItems } from '../src/services/ingestion/import-items.js';
import { importRatings } from '../src/services/ingestion/import-ratings.js';
import { formatSpread, markdownTable, MiB, spread, startRssSampler } from './lib/measure.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    data: { type: 'string' },
    'batch-sizes': { type: 'string', default: '1000,5000,20000' },
    engines: { type: 'string', default: 'postgres,pglite' },
    'streaming-scale': { type: 'string', default: '0' },
    json: { type: 'string' },
  },
});
const runs = Number(values.runs);
const batchSizes = values['batch-sizes'].split(',').map(Number);
const engines = values.engines.split(',') as Engine[];
const streamingScale = Number(values['streaming-scale']);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
if (batchSizes.some((b) => !Number.isInteger(b) || b < 1))
  throw new Error('--batch-sizes: positive integers');
for (const engine of engines)
  if (engine !== 'pglite' && engine !== 'postgres') throw new Error(`engine ${engine}?`);

type Engine = 'pglite' | 'postgres';
const log = (message: string) =>
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const work = await mkdtemp(join(tmpdir(), 'rebeca-import-bench-'));

/** A fresh database of one engine: PGlite in a folder, or a new PostgreSQL database. */
interface Fresh {
  handle: DatabaseHandle;
  /** Close it, keeping its contents so that clones can be made. */
  close(): Promise<void>;
  /** Remove it for good (closes it first if needed). */
  drop(): Promise<void>;
}

let counter = 0;
const adminUrl = values.postgres;
const withDatabase = (name: string) => {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
};
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new database, empty (migrated) or cloned from `from` (a previous Fresh's name/folder). */
async function freshDatabase(engine: Engine, from?: string): Promise<Fresh & { source: string }> {
  counter += 1;
  if (engine === 'pglite') {
    const dir = join(work, `pglite-${counter}`);
    if (from !== undefined) await cp(from, dir, { recursive: true });
    else await mkdir(dir);
    const handle = await openDatabase({ dataDir: dir });
    if (from === undefined) await handle.migrate();
    let open = true;
    const close = async () => {
      if (open) await handle.close();
      open = false;
    };
    return { handle, source: dir, close, drop: async () => (await close(), rm(dir, { recursive: true })) };
  }
  const name = `bench_import_${process.pid}_${counter}`;
  await admin(`create database ${name}${from === undefined ? '' : ` template ${from}`}`);
  const handle = await openDatabase({ url: withDatabase(name), dataDir: null, maxConnections: 2 });
  if (from === undefined) await handle.migrate();
  let open = true;
  const close = async () => {
    if (open) await handle.close();
    open = false;
  };
  return {
    handle,
    source: name,
    close,
    drop: async () => (await close(), admin(`drop database if exists ${name}`)),
  };
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(path) })) if (line !== '') n += 1;
  return n - 1;
}

/** ratings.csv repeated `scale` times with user ids suffixed per copy: scale x rows, same shape. */
async function scaledRatings(path: string, scale: number, out: string): Promise<void> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path) }))
    if (line !== '') lines.push(line);
  const stream = createWriteStream(out);
  stream.write(`${lines[0]}\n`);
  for (let k = 0; k < scale; k += 1) {
    const chunk = lines
      .slice(1)
      .map((line) => line.replace(/^([^,]*),/, `$1-x${k},`))
      .join('\n');
    if (!stream.write(`${chunk}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

// ---- data
let dataDir = values.data;
if (dataDir === undefined) {
  dataDir = join(work, 'world');
  log('generating the flickr world (seed 1) with the CLI ...');
  const result = spawnSync(
    'npx',
    ['tsx', 'src/main.ts', 'world', 'generate', '--preset', 'flickr', '--seed', '1', '--out', dataDir],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) throw new Error('world generation failed');
}
const files = {
  items: join(dataDir, 'items.csv'),
  embeddings: join(dataDir, 'embeddings.npy'),
  ratings: join(dataDir, 'ratings.csv'),
};
const npyHeader = (await readFile(files.embeddings)).subarray(0, 128).toString('latin1');
const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(npyHeader);
const itemCount = Number(shape?.[1]);
const dim = Number(shape?.[2]);
const ratingCount = await countLines(files.ratings);
const embeddingBytes = itemCount * dim * 4;
const sizes = {
  items: (await stat(files.items)).size,
  embeddings: (await stat(files.embeddings)).size,
  ratings: (await stat(files.ratings)).size,
};
log(`data: ${itemCount} items x ${dim}, ${ratingCount} ratings (${(sizes.ratings / MiB).toFixed(1)} MiB)`);

// ---- measurements
interface RatingsSample {
  seconds: number;
  rows: number;
  baselineRss: number;
  peakRss: number;
}
const results: Record<
  string,
  {
    items: { seconds: number; rows: number }[];
    ratings: Record<number, RatingsSample[]>;
    scaled?: RatingsSample;
  }
> = {};

async function timeRatings(engine: Engine, template: string, batchSize: number, ratingsPath = files.ratings) {
  const db = await freshDatabase(engine, template);
  try {
    const sampler = startRssSampler();
    const summary = await importRatings(db.handle.db, { ratingsPath, batchSize });
    const { baseline, peak } = sampler.stop();
    return { seconds: summary.seconds, rows: summary.rows, baselineRss: baseline, peakRss: peak };
  } finally {
    await db.drop();
  }
}

for (const engine of engines) {
  if (engine === 'postgres') {
    try {
      await admin('select 1');
    } catch (error) {
      log(`postgres: skipped, ${adminUrl} does not answer (${(error as Error).message})`);
      continue;
    }
  }
  const result: (typeof results)[string] = { items: [], ratings: {} };
  results[engine] = result;
  for (let run = 1; run <= runs; run += 1) {
    const itemsDb = await freshDatabase(engine);
    try {
      const summary = await importItems(itemsDb.handle.db, {
        itemsPath: files.items,
        embeddingsPath: files.embeddings,
      });
      result.items.push({ seconds: summary.seconds, rows: summary.rows });
      log(`${engine} run ${run}: items ${summary.rows} in ${summary.seconds.toFixed(1)} s`);
      await itemsDb.close();
      // Batch sizes in a rotating order, so that a slow patch of a shared machine does not favour one.
      const order = batchSizes.map((_, i) => batchSizes[(i + run - 1) % batchSizes.length] as number);
      for (const batchSize of order) {
        const sample = await timeRatings(engine, itemsDb.source, batchSize);
        (result.ratings[batchSize] ??= []).push(sample);
        log(
          `${engine} run ${run}: ratings batch ${batchSize}: ${sample.rows} in ${sample.seconds.toFixed(1)} s, ` +
            `RSS ${(sample.baselineRss / MiB).toFixed(0)} -> ${(sample.peakRss / MiB).toFixed(0)} MiB`,
        );
      }
      if (run === 1 && streamingScale > 1) {
        const scaledPath = join(work, `ratings-x${streamingScale}.csv`);
        await scaledRatings(files.ratings, streamingScale, scaledPath);
        result.scaled = await timeRatings(engine, itemsDb.source, 5000, scaledPath);
        log(
          `${engine}: ratings x${streamingScale}: ${result.scaled.rows} in ${result.scaled.seconds.toFixed(1)} s, ` +
            `RSS ${(result.scaled.baselineRss / MiB).toFixed(0)} -> ${(result.scaled.peakRss / MiB).toFixed(0)} MiB`,
        );
        await rm(scaledPath);
      }
    } finally {
      await itemsDb.drop();
    }
  }
}
await rm(work, { recursive: true, force: true }).catch(() => undefined);
if (values.json !== undefined) {
  await writeFile(values.json, JSON.stringify({ itemCount, dim, ratingCount, sizes, results }, null, 2));
}

// ---- report
const engineName = (engine: string) => (engine === 'pglite' ? 'PGlite (on disk)' : 'PostgreSQL 15 (local)');
const lines: string[] = [];
lines.push(
  `Import throughput: ${itemCount.toLocaleString('en-US')} items x ${dim} (embeddings ${(embeddingBytes / 1e6).toFixed(1)} MB), ` +
    `${ratingCount.toLocaleString('en-US')} ratings; ${runs} runs, median (min–max).`,
  `Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
    `load average at the end ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')}.`,
  '',
);
const itemRows: string[][] = [];
const ratingRows: string[][] = [];
for (const [engine, result] of Object.entries(results)) {
  const seconds = spread(result.items.map((s) => s.seconds));
  itemRows.push([
    engineName(engine),
    formatSpread(seconds, 1),
    formatSpread(spread(result.items.map((s) => s.rows / s.seconds))),
    formatSpread(spread(result.items.map((s) => embeddingBytes / 1e6 / s.seconds)), 2),
  ]);
  for (const batchSize of batchSizes) {
    const samples = result.ratings[batchSize] ?? [];
    ratingRows.push([
      engineName(engine),
      batchSize.toLocaleString('en-US') + (batchSize === 5000 ? ' (default)' : ''),
      formatSpread(spread(samples.map((s) => s.seconds)), 1),
      formatSpread(spread(samples.map((s) => s.rows / s.seconds))),
      formatSpread(spread(samples.map((s) => (s.peakRss - s.baselineRss) / MiB))),
      formatSpread(spread(samples.map((s) => s.peakRss / MiB))),
    ]);
  }
}
lines.push(
  '### Items (items.csv + embeddings.npy, default batch 250)',
  '',
  markdownTable(['engine', 'seconds', 'items/s', 'MB/s of embeddings'], itemRows),
  '',
  '### Ratings (ratings.csv), by batch size',
  '',
  markdownTable(
    ['engine', 'batch', 'seconds', 'ratings/s', 'RSS growth during import (MiB)', 'peak RSS (MiB)'],
    ratingRows,
  ),
  '',
);
const pglite = results.pglite;
const postgres = results.postgres;
if (pglite !== undefined && postgres !== undefined) {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const items = ratio(
    spread(pglite.items.map((s) => s.seconds)).median,
    spread(postgres.items.map((s) => s.seconds)).median,
  );
  const ratings = batchSizes
    .map(
      (b) =>
        `batch ${b}: ${ratio(
          spread((pglite.ratings[b] ?? []).map((s) => s.seconds)).median,
          spread((postgres.ratings[b] ?? []).map((s) => s.seconds)).median,
        )}`,
    )
    .join(', ');
  lines.push(`PostgreSQL vs PGlite throughput (medians): items ${items}; ratings ${ratings}.`, '');
}
const scaled = Object.entries(results).filter(([, r]) => r.scaled !== undefined);
if (scaled.length > 0) {
  lines.push(
    `### Streaming check: ratings.csv x${streamingScale} (${((sizes.ratings * streamingScale) / MiB).toFixed(1)} MiB), batch 5000, one run`,
    '',
    markdownTable(
      ['engine', 'ratings', 'seconds', 'ratings/s', 'RSS growth (MiB)', 'peak RSS (MiB)'],
      scaled.map(([engine, r]) => {
        const s = r.scaled as RatingsSample;
        return [
          engineName(engine),
          s.rows.toLocaleString('en-US'),
          s.seconds.toFixed(1),
          Math.round(s.rows / s.seconds).toLocaleString('en-US'),
          ((s.peakRss - s.baselineRss) / MiB).toFixed(0),
          (s.peakRss / MiB).toFixed(0),
        ];
      }),
    ),
    '',
  );
}
console.log(lines.join('\n'));
