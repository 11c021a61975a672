/** Summary of a V8 .cpuprofile (from `node --cpu-prof`): self time by code area and by function. */
import { readFileSync } from 'node:fs';
import { fmt, table } from './serving-common.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Now on the clock of V8's profile timestamps (CLOCK_MONOTONIC, µs), for {@link summariseProfile}. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time by function and by code area (package or src/ folder), from a .cpuprofile; only samples
 * taken inside `window` ([from, to] in {@link monotonicMicros}) when given, e.g. leaving start-up out.
 */
export function summariseProfile(file: string, window?: { from: number; to: number }): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window !== undefined && (at < window.from || at > window.to)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  let total = 0;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    total += us;
    const where = frame.url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '');
    const name = `${frame.functionName || '(anonymous)'} ${where === '' ? '' : `${where}:${frame.lineNumber + 1}`}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1];
    const area =
      pkg !== undefined
        ? pkg
        : where.startsWith('src/')
          ? where.split('/').slice(0, 2).join('/')
          : where === ''
            ? frame.functionName.startsWith('(')
              ? frame.functionName
              : '(native / builtins)'
            : where.startsWith('node:')
              ? 'node internals'
              : where;
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => [`\`${name.trim()}\``, fmt(us / 1000, 0), fmt((100 * us) / total, 1)]);
  return [
    `profile: ${file}, ${fmt(total / 1000, 0)} ms of samples` +
      (window === undefined ? '' : ` in a window of ${fmt((window.to - window.from) / 1000, 0)} ms`),
    '',
    table(['code area (self time)', 'ms', '%'], top(byArea, 12)),
    '',
    table(['function (self time)', 'ms', '%'], top(byFunction, 20)),
  ].join('\n');
}
