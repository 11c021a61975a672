import { BadUserInputError } from '../errors.js';

/** Why an embedding cannot be stored, or null when it can. */
export function embeddingProblem(embedding: ArrayLike<number>, expectedDim: number | null): string | null {
  if (embedding.length === 0) return 'embedding is empty';
  if (expectedDim !== null && embedding.length !== expectedDim) {
    return `embedding has width ${embedding.length}, the catalog's is ${expectedDim}`;
  }
  for (let i = 0; i < embedding.length; i += 1) {
    if (!Number.isFinite(embedding[i])) return `embedding value ${i} is not a finite number`;
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
