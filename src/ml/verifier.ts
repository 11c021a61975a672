import { sigmoid } from '../lib/sigmoid.js';
import { dot } from './dot.js';

/**
 * The verifier: logistic matrix factorisation over raw embeddings,
 * `P(like | u, e) = sigmoid(theta_u . (Ma^T e) + b_u + mb . e)`.
 */

/** A user's verifier factors: from the trained table, or fitted at request time (cold start). */
export interface UserFactors {
  /** theta_u, length d. */
  vector: Float32Array;
  /** b_u. */
  bias: number;
}

export interface VerifierParameters {
  /** Embedding width D. */
  embeddingDim: number;
  /** Factor width d. */
  rank: number;
  /** Ma, [D, d] row-major. */
  itemProjection: Float32Array;
  /** mb, [D]. */
  itemBias: Float32Array;
  /** theta, [U, d] row-major. */
  userVectors: Float32Array;
  /** b, [U]. */
  userBiases: Float32Array;
  /** External user id of each row of theta. */
  users: readonly string[];
}

/** An embedding mapped into the verifier's item space: `Ma^T e` and `mb . e`. */
export interface ItemFeatures {
  features: Float32Array;
  offset: number;
}

export { sigmoid };

export class Verifier {
  readonly embeddingDim: number;
  readonly rank: number;
  private readonly rowsById: Map<string, number>;
  /** Ma^T, [d, D]: projection then reads contiguous memory. */
  private readonly projectionT: Float32Array;

  constructor(readonly params: VerifierParameters) {
    const { embeddingDim: D, rank: d, users } = params;
    const expect = (name: string, actual: number, wanted: number): void => {
      if (actual !== wanted) throw new Error(`verifier ${name} has ${actual} values, expected ${wanted}`);
    };
    expect('itemProjection', params.itemProjection.length, D * d);
    expect('itemBias', params.itemBias.length, D);
    expect('userVectors', params.userVectors.length, users.length * d);
    expect('userBiases', params.userBiases.length, users.length);
    this.embeddingDim = D;
    this.rank = d;
    this.rowsById = new Map(users.map((id, row) => [id, row]));
    this.projectionT = transpose(params.itemProjection, D, d);
  }

  get userCount(): number {
    return this.params.users.length;
  }

  /** The verifier row of an external user id, or undefined for users it never saw. */
  userRow(userId: string): number | undefined {
    return this.rowsById.get(userId);
  }

  /** The trained factors of row `row` (views into the model's table: do not write to them). */
  userFactors(row: number): UserFactors {
    if (!Number.isInteger(row) || row < 0 || row >= this.userCount) {
      throw new RangeError(`verifier user row ${row} is outside 0..${this.userCount - 1}`);
    }
    const d = this.rank;
    return {
      vector: this.params.userVectors.subarray(row * d, (row + 1) * d),
      bias: this.params.userBiases[row] as number,
    };
  }

  /** The average trained user: a prior for cold-start fitting. */
  meanUserFactors(): UserFactors {
    const d = this.rank;
    const vector = new Float32Array(d);
    const sum = new Float64Array(d);
    let biasSum = 0;
    for (let u = 0; u < this.userCount; u += 1) {
      for (let j = 0; j < d; j += 1)
        sum[j] = (sum[j] as number) + (this.params.userVectors[u * d + j] as number);
      biasSum += this.params.userBiases[u] as number;
    }
    const n = Math.max(this.userCount, 1);
    for (let j = 0; j < d; j += 1) vector[j] = (sum[j] as number) / n;
    return { vector, bias: biasSum / n };
  }

  /** `Ma^T e` and `mb . e` for one embedding of width D. */
  projectEmbedding(embedding: Float32Array): ItemFeatures {
    this.checkWidth(embedding.length);
    const features = new Float32Array(this.rank);
    const offsets = new Float32Array(1);
    projectRows(
      this.projectionT,
      this.params.itemBias,
      this.embeddingDim,
      this.rank,
      embedding,
      1,
      features,
      offsets,
    );
    return { features, offset: offsets[0] as number };
  }

  /** Like-probability of one embedding for a user given by row or by factors. */
  probability(user: number | UserFactors, embedding: Float32Array): number {
    const factors = typeof user === 'number' ? this.userFactors(user) : user;
    const { features, offset } = this.projectEmbedding(embedding);
    let z = factors.bias + offset;
    for (let j = 0; j < this.rank; j += 1) z += (factors.vector[j] as number) * (features[j] as number);
    return sigmoid(z);
  }

  /**
   * Project `count` embeddings ([count, D] row-major) into the item space at once:
   * `P = E Ma` [count, d] and `c = E mb` [count]. Yields to the event loop between chunks so that
   * projecting a large catalog does not stall a serving process.
   */
  async projectEmbeddings(
    embeddings: Float32Array,
    count: number,
  ): Promise<{ features: Float32Array; offsets: Float32Array }> {
    this.checkWidth(embeddings.length / Math.max(count, 1));
    if (embeddings.length !== count * this.embeddingDim) {
      throw new Error(`expected ${count} x ${this.embeddingDim} values, got ${embeddings.length}`);
    }
    const features = new Float32Array(count * this.rank);
    const offsets = new Float32Array(count);
    const chunk = 512;
    for (let start = 0; start < count; start += chunk) {
      const rows = Math.min(chunk, count - start);
      const D = this.embeddingDim;
      projectRows(
        this.projectionT,
        this.params.itemBias,
        D,
        this.rank,
        embeddings.subarray(start * D, (start + rows) * D),
        rows,
        features.subarray(start * this.rank, (start + rows) * this.rank),
        offsets.subarray(start, start + rows),
      );
      if (start + chunk < count) await new Promise((resolve) => setImmediate(resolve));
    }
    return { features, offsets };
  }

  private checkWidth(width: number): void {
    if (width !== this.embeddingDim) {
      throw new Error(`embedding width ${width} does not match the verifier's ${this.embeddingDim}`);
    }
  }
}

/**
 * `features[r] = Ma^T e_r` and `offsets[r] = mb . e_r`, as dot products over D against Ma's transpose,
 * so both operands are contiguous.
 */
function projectRows(
  maT: Float32Array,
  mb: Float32Array,
  D: number,
  d: number,
  embeddings: Float32Array,
  rows: number,
  features: Float32Array,
  offsets: Float32Array,
): void {
  for (let r = 0; r < rows; r += 1) {
    const base = r * D;
    for (let j = 0; j < d; j += 1) features[r * d + j] = dot(maT, j * D, embeddings, base, D);
    offsets[r] = dot(mb, 0, embeddings, base, D);
  }
}

function transpose(matrix: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(matrix.length);
  for (let i = 0; i < rows; i += 1) {
    for (let j = 0; j < columns; j += 1) out[j * rows + i] = matrix[i * columns + j] as number;
  }
  return out;
}
