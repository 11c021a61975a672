// Bundles the browser front end (web/app.ts) and GraphiQL (web/graphiql.ts) into dist/web/ with esbuild:
// hashed .js/.css (and their .gz), and index.html / graphiql.html that name them. `npm start` and the
// tests run it first; it does nothing when dist/web was built from the same inputs (build.json).
// `tsx scripts/build-web.ts [--force]`.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
export const WEB_SOURCE_DIR = join(root, 'web');
export const WEB_OUT_DIR = join(root, 'dist', 'web');
const PAGES = ['index.html', 'graphiql.html'] as const;
const BUILD_FILE = 'build.json';

export interface WebBuild {
  /** False when dist/web was already built from the same inputs. */
  built: boolean;
  ms: number;
  /** Output file name -> bytes (and gzipped bytes where a .gz is served). */
  files: Record<string, { bytes: number; gzip?: number }>;
}

interface BuildRecord {
  /** Input path (relative to the repo) -> sha256 of its content. */
  inputs: Record<string, string>;
  files: WebBuild['files'];
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function hashInputs(paths: Iterable<string>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    [...paths].map(async (path) => [path, sha256(await readFile(join(root, path)).catch(() => ''))]),
  );
  return Object.fromEntries(entries.sort(([a], [b]) => (a! < b! ? -1 : 1)));
}

/** The files every build reads besides what esbuild reports: the page templates and this script. */
const FIXED_INPUTS = [...PAGES.map((page) => `web/${page}`), 'scripts/build-web.ts'];

async function upToDate(): Promise<BuildRecord | undefined> {
  const record = JSON.parse(
    await readFile(join(WEB_OUT_DIR, BUILD_FILE), 'utf8').catch(() => 'null'),
  ) as BuildRecord | null;
  if (record === null) return undefined;
  const now = await hashInputs(Object.keys(record.inputs));
  const same = Object.entries(record.inputs).every(([path, hash]) => now[path] === hash);
  const outputs = await Promise.all(
    Object.keys(record.files).map((file) => stat(join(WEB_OUT_DIR, file)).catch(() => null)),
  );
  return same && outputs.every((output) => output !== null) ? record : undefined;
}

const common = {
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  publicPath: '/web/',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  metafile: true as const,
  write: true,
  logLevel: 'warning',
} satisfies BuildOptions;

/** The output (relative to outdir) of an entry point, and its CSS bundle if it has one. */
function entryOutputs(metafile: Metafile, outdir: string, entry: string): { js: string; css?: string } {
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (output.entryPoint !== entry) continue;
    const name = (path: string) => relative(outdir, join(root, path));
    return { js: name(file), ...(output.cssBundle === undefined ? {} : { css: name(output.cssBundle) }) };
  }
  throw new Error(`esbuild produced no output for ${entry}`);
}

/** Build into a fresh folder beside dist/web and swap it in, so a running gateway never sees half a build. */
export async function buildWeb(options: { force?: boolean } = {}): Promise<WebBuild> {
  const started = performance.now();
  if (!options.force) {
    const record = await upToDate();
    if (record !== undefined) return { built: false, ms: performance.now() - started, files: record.files };
  }
  const outdir = `${WEB_OUT_DIR}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(outdir, { recursive: true });
  try {
    const [app, ide] = await Promise.all([
      // The page: small, with a source map.
      build({ ...common, entryPoints: ['web/app.ts'], outdir, sourcemap: 'linked', absWorkingDir: root }),
      // GraphiQL (React, CodeMirror): no source map, it would be several megabytes.
      build({ ...common, entryPoints: ['web/graphiql.ts'], outdir, absWorkingDir: root }),
    ]);
    const assets = {
      app: entryOutputs(app.metafile, outdir, 'web/app.ts'),
      graphiql: entryOutputs(ide.metafile, outdir, 'web/graphiql.ts'),
    };
    for (const page of PAGES) {
      let html = await readFile(join(WEB_SOURCE_DIR, page), 'utf8');
      html = html.replace(
        /\{\{(app|graphiql)\.(js|css)\}\}/g,
        (_, entry: 'app' | 'graphiql', kind: 'js' | 'css') => {
          const file = assets[entry][kind];
          if (file === undefined) throw new Error(`${page}: ${entry} has no ${kind} output`);
          return `/web/${file}`;
        },
      );
      await writeFile(join(outdir, page), html);
    }
    const files: WebBuild['files'] = {};
    for (const file of (await readdir(outdir)).sort()) {
      const data = await readFile(join(outdir, file));
      files[file] = { bytes: data.length };
      if (/\.(js|css|svg|map|txt)$/.test(file) && data.length > 1024) {
        const gzip = gzipSync(data, { level: 9 });
        await writeFile(join(outdir, `${file}.gz`), gzip);
        files[file]!.gzip = gzip.length;
      }
    }
    const inputs = new Set([
      ...FIXED_INPUTS,
      ...Object.keys(app.metafile.inputs),
      ...Object.keys(ide.metafile.inputs),
    ]);
    const record: BuildRecord = { inputs: await hashInputs(inputs), files };
    await writeFile(join(outdir, BUILD_FILE), `${JSON.stringify(record, null, 1)}\n`);
    await mkdir(dirname(WEB_OUT_DIR), { recursive: true });
    await rm(WEB_OUT_DIR, { recursive: true, force: true });
    try {
      await rename(outdir, WEB_OUT_DIR);
    } catch (error) {
      // Another build (npm start beside the tests) swapped its own in first: the same inputs, keep it.
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    return { built: true, ms: performance.now() - started, files };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The packages the bundles are built from: devDependencies, absent after `npm ci --omit=dev`. */
const BUNDLED = ['graphiql', '@graphiql/toolkit', 'react', 'react-dom', 'graphql-ws', 'get-nonce'];

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const missing = BUNDLED.filter((name) => !existsSync(join(root, 'node_modules', name, 'package.json')));
  if (missing.length > 0 && (await upToDate()) === undefined) {
    // `npm start` goes on without the pages (`/` answers 503 saying how to build them).
    console.warn(
      `not building dist/web: ${missing.join(', ')} not installed (npm ci installs the devDependencies)`,
    );
    process.exit(0);
  }
  const result = await buildWeb({ force: process.argv.includes('--force') });
  if (!result.built) {
    console.log(`dist/web is up to date (${Math.round(result.ms)} ms); --force rebuilds`);
  } else {
    console.log(`built dist/web in ${Math.round(result.ms)} ms:`);
    for (const [file, size] of Object.entries(result.files)) {
      if (file.endsWith('.map') || file.endsWith('.txt')) continue;
      const gzip = size.gzip === undefined ? '' : ` (${kib(size.gzip)} gzip)`;
      console.log(`  ${file.padEnd(36)} ${kib(size.bytes).padStart(11)}${gzip}`);
    }
  }
}
