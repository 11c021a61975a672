import { BadUserInputError } from '../errors.js';
import { MAX_EMBEDDING_DIM } from '../limits.js';

const FLOAT32_MAX = 3.4028234663852886e38;

/** Why an embedding cannot be stored, or null when it can. */
export function embeddingProblem(embedding: ArrayLike<number>, expectedDim: number | null): string | null {
  if (embedding.length === 0) return 'embedding is empty';
  if (embedding.length > MAX_EMBEDDING_DIM)
    return `embedding has width ${embedding.length}, at most ${MAX_EMBEDDING_DIM}`;
  if (expectedDim !== null && embedding.length !== expectedDim) {
    return `embedding has width ${embedding.length}, the catalog's is ${expectedDim}`;
  }
  for (let i = 0; i < embedding.length; i += 1) {
    const value = embedding[i] as number;
    if (!Number.isFinite(value)) return `embedding value ${i} is not a finite number`;
    // Stored as PostgreSQL real (float32): anything wider would fail in the database.
    if (Math.abs(value) > FLOAT32_MAX) return `embedding value ${i} is outside the float32 range`;
  }
  return null;
}

export function assertEmbedding(
  embedding: ArrayLike<number>,
  expectedDim: number | null,
  what: string,
): void {
  const problem = embeddingProblem(embedding, expectedDim);
  if (problem !== null) throw new BadUserInputError(`${what}: ${problem}`);
}
