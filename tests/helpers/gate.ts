import { type Denoiser } from '../../src/ml/index.js';

/**
 * Holds generation steps back until the test lets them through, so that what a subscriber sees does not
 * depend on how fast the machine runs the model: `open()` lets everything run, `close()` holds the next
 * steps, `step(n)` lets exactly n more through.
 */
export class StepGate {
  private allowance = Number.POSITIVE_INFINITY;
  private readonly waiting: (() => void)[] = [];
  /** Steps that have gone through. */
  passed = 0;

  open(): void {
    this.allowance = Number.POSITIVE_INFINITY;
    this.flush();
  }

  close(): void {
    this.allowance = 0;
  }

  step(count = 1): void {
    this.allowance = (Number.isFinite(this.allowance) ? this.allowance : 0) + count;
    this.flush();
  }

  /** Steps waiting at the gate now. */
  get held(): number {
    return this.waiting.length;
  }

  wrap = (inner: Denoiser): Denoiser => ({
    validate: (inputs) => inner.validate(inputs),
    register: () => inner.register?.() ?? (() => undefined),
    denoise: async (inputs, signal) => {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.flush();
      });
      this.passed += 1;
      return inner.denoise(inputs, signal);
    },
  });

  private flush(): void {
    while (this.allowance > 0 && this.waiting.length > 0) {
      this.allowance -= 1;
      this.waiting.shift()?.();
    }
  }
}
