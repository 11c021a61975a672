/** Shared helpers of the ml benchmarks: model choice, medians, markdown tables. */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { loadModel, type RebecaModel, type UserCondition } from '../src/ml/index.js';

/** `--model DIR`, else models/demo when committed, else the tiny test fixture. */
export function modelDir(): string {
  const flag = process.argv.indexOf('--model');
  if (flag >= 0 && process.argv[flag + 1]) return process.argv[flag + 1] as string;
  return existsSync('models/demo/manifest.json') ? 'models/demo' : 'tests/fixtures/tiny-model';
}

export function flagNumber(name: string, fallback: number): number {
  const flag = process.argv.indexOf(`--${name}`);
  const value = flag >= 0 ? Number(process.argv[flag + 1]) : Number.NaN;
  return Number.isFinite(value) ? value : fallback;
}

export async function openModel(): Promise<RebecaModel> {
  const dir = modelDir();
  const threads = flagNumber('threads', 0);
  const model = await loadModel(dir, threads > 0 ? { intraOpThreads: threads } : {});
  const m = model.manifest;
  const arch = m.architecture ?? {};
  console.log(
    `model: ${dir} (preset ${m.preset ?? '?'}, D = ${m.embeddingDim}, T = ${m.schedule.timesteps}, ` +
      `d_model = ${String(arch.dModel)}, layers = ${String(arch.layers)}, ${String(arch.parameters)} parameters; ` +
      `ORT intra-op threads: ${threads > 0 ? threads : 'default'})`,
  );
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}, onnxruntime-node CPU; ${loadLine()}\n`,
  );
  return model;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median wall time in ms of `runs` calls after `warmup` unmeasured ones. */
export async function timeMedian(
  runs: number,
  fn: () => Promise<unknown> | unknown,
  warmup = 1,
): Promise<number> {
  for (let i = 0; i < warmup; i += 1) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * Median wall and CPU time (ms, this process) of single-threaded JS work. On a shared, loaded machine
 * CPU time is what the code costs; wall time includes waiting for a core.
 */
export async function timeMedianCpu(
  runs: number,
  fn: () => unknown,
  warmup = 1,
): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < warmup; i += 1) fn();
  const walls: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    fn();
    walls.push(performance.now() - started);
    const used = process.cpuUsage(cpuBefore);
    cpuTimes.push((used.user + used.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpuTimes) };
}

export function loadLine(): string {
  return `load average ${loadavg()
    .map((value) => value.toFixed(1))
    .join(' / ')} (1/5/15 min)`;
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function fixed(value: number, digits = 2): string {
  return value.toFixed(digits);
}

/** The prior's condition for its `index`-th training user: their row, or their trained taste vector. */
export function trainedUser(model: RebecaModel, index: number): UserCondition {
  const users = model.manifest.users;
  const id = users[index % users.length] as string;
  const row = model.verifier.userRow(id);
  const factors = row === undefined ? model.verifier.meanUserFactors() : model.verifier.userFactors(row);
  return model.userCondition(id, factors) ?? { kind: 'none' };
}
