import { createHash } from 'node:crypto';
import { type DecodedImage, type ImageDecoder } from './image-decoder.js';

/** Images kept in memory, newest used last. */
const CACHE_SIZE = 1000;
/** Decodes in flight at once (an HTTP decoder is a Stable Diffusion run each). */
const MAX_CONCURRENT = 4;

/** The cache key of a generated item's image (its embedding never changes). */
export function generatedImageKey(id: string): string {
  return `generated:${id}`;
}

/**
 * The cache key of a catalog item's image: its embedding's content, since `upsertItems` may change an
 * item's embedding under the same id (and equal embeddings draw the same picture).
 */
export function catalogImageKey(embedding: Float32Array): string {
  const bytes = Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
  return `catalog:${createHash('sha256').update(bytes).digest('base64url')}`;
}

/**
 * An item's image, decoded once and remembered: the `image` field can be read many times (every
 * recommend that shows the item) and a Stable Diffusion call costs seconds. Concurrent reads of the same
 * item share one decode; at most a few decodes run at once. Keys name their kind (`generatedImageKey`,
 * `catalogImageKey`), so a catalog item and a generated item never share an entry.
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
