/** Receives progress of long work; the CLI prints it, tests may record it. */
export type ProgressListener = (event: { phase: string; done: number; total?: number | undefined }) => void;

/**
 * A listener that redraws one line on a terminal at most every `intervalMs`, and prints nothing when
 * stderr is not a terminal (logs and CI stay clean).
 */
export function terminalProgress(
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 200,
): ProgressListener & {
  finish(): void;
} {
  const started = Date.now();
  let last = 0;
  let drawn = false;
  const listener = (event: { phase: string; done: number; total?: number | undefined }) => {
    if (!stream.isTTY) return;
    const now = Date.now();
    if (now - last < intervalMs && event.done !== event.total) return;
    last = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? Math.round(event.done / seconds) : 0;
    const share = event.total ? ` / ${event.total} (${((100 * event.done) / event.total).toFixed(1)}%)` : '';
    stream.write(`\r\x1b[K${event.phase}: ${event.done}${share}, ${rate}/s, ${seconds.toFixed(1)} s`);
    drawn = true;
  };
  return Object.assign(listener, {
    finish() {
      if (drawn) stream.write('\n');
    },
  });
}
