/**
 * Catalog scoring and top-20 retrieval over 40,000 items of width 1024 with d = 80 (synthetic
 * verifier and catalog of the paper's sizes), plus nearest-item search and cold-start fitting.
 */
import { cpus } from 'node:os';
import { CatalogIndex, fitCatalogUser, SeededRandom, Verifier, type UserFactors } from '../src/ml/index.js';
import { fixed, flagNumber, loadLine, table, timeMedianCpu } from './ml-common.js';

const N = flagNumber('items', 40_000);
const D = flagNumber('width', 1024);
const d = flagNumber('rank', 80);
const runs = flagNumber('runs', 51);
const rng = new SeededRandom(0);
const normals = (n: number, scale: number): Float32Array => {
  const out = new Float32Array(n);
  rng.fillNormal(out);
  for (let i = 0; i < n; i += 1) out[i] = (out[i] as number) * scale;
  return out;
};
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}; ${loadLine()}`);
const verifier = new Verifier({
  embeddingDim: D,
  rank: d,
  itemProjection: normals(D * d, 1 / Math.sqrt(D)),
  itemBias: normals(D, 0.01),
  userVectors: normals(100 * d, 0.3),
  userBiases: normals(100, 0.1),
  users: Array.from({ length: 100 }, (_, u) => `u${u}`),
});
const catalog = {
  ids: Array.from({ length: N }, (_, i) => `item-${i}`),
  embeddings: normals(N * D, 1),
  dim: D,
};

const cpuBefore = process.cpuUsage();
const started = performance.now();
const index = await CatalogIndex.build(catalog, verifier);
const build = { wall: performance.now() - started, cpu: 0 };
const used = process.cpuUsage(cpuBefore);
build.cpu = (used.user + used.system) / 1000;

// The user's rated items are excluded, as the recommendation service does.
const rated = new Set(Array.from({ length: 200 }, () => Math.floor(rng.nextFloat() * N)));
let user = 0;
const nextUser = (): UserFactors => verifier.userFactors(user++ % 100);
const scores = new Float32Array(N);
const score = await timeMedianCpu(runs, () => index.scoreCatalog(nextUser(), scores), 5);
const top = await timeMedianCpu(runs, () => index.topK(nextUser(), 20, rated), 5);
const query = normals(D, 1);
const nearest = await timeMedianCpu(Math.min(runs, 21), () => index.nearest(query, 5), 3);
const ratings = Array.from({ length: 10 }, (_, i) => ({
  row: Math.floor(rng.nextFloat() * N),
  liked: i < 6,
}));
const prior = verifier.meanUserFactors();
const fitOnly = await timeMedianCpu(runs, () => fitCatalogUser(index, ratings, { l2: 1, prior }), 5);
const cold = await timeMedianCpu(
  runs,
  () => index.topK(fitCatalogUser(index, ratings, { l2: 1, prior }), 20, rated),
  5,
);

console.log(`catalog: ${N} items x ${D}, verifier d = ${d}; median of ${runs} runs (build: one run)\n`);
const row = (name: string, t: { wall: number; cpu: number }, digits = 2): string[] => [
  name,
  fixed(t.wall, digits),
  fixed(t.cpu, digits),
];
console.log(
  table(
    ['operation', 'wall (ms)', 'CPU (ms)'],
    [
      row('build index: P = E Ma, c = E mb, norms (once per model version)', build, 0),
      row('scoreCatalog: like-probability of every item', score),
      row('topK(20) excluding 200 rated items (scoring included)', top),
      row(`nearest(5) by cosine over D = ${D}`, nearest),
      row('cold start: fit from 10 ratings (Newton on d + 1 unknowns)', fitOnly),
      row('cold start + topK(20)', cold),
    ],
  ),
);
