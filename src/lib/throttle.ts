/** `fn`, called at most once per `intervalMs`; calls in between are dropped (for repetitive warnings). */
export function atMostEvery<Args extends unknown[]>(
  intervalMs: number,
  fn: (...args: Args) => void,
): (...args: Args) => void {
  let last = -Infinity;
  return (...args) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    fn(...args);
  };
}
