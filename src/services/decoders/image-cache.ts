import { type DecodedImage, type ImageDecoder } from './image-decoder.js';

/** Images kept in memory, newest used last. */
const CACHE_SIZE = 1000;
/** Decodes in flight at once (an HTTP decoder is a Stable Diffusion run each). */
const MAX_CONCURRENT = 4;

/**
 * A generated item's image, decoded once and remembered: the `image` field can be read many times (every
 * recommend that shows the item) and a Stable Diffusion call costs seconds. Concurrent reads of the same
 * item share one decode; at most a few decodes run at once.
 */
export class ImageCache {
  private readonly images = new Map<string, Promise<DecodedImage | null>>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly decoder: ImageDecoder) {}

  imageFor(key: string, embedding: Float32Array): Promise<DecodedImage | null> {
    const cached = this.images.get(key);
    if (cached !== undefined) {
      this.images.delete(key);
      this.images.set(key, cached);
      return cached;
    }
    const decoding = this.limited(() => this.decoder.decode(embedding));
    this.images.set(key, decoding);
    // A failure is not remembered: the next read tries again.
    decoding.catch(() => this.images.delete(key));
    if (this.images.size > CACHE_SIZE) this.images.delete(this.images.keys().next().value as string);
    return decoding;
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_CONCURRENT) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}
