import { dot } from './dot.js';
import { sigmoid, type UserFactors, type Verifier } from './verifier.js';

/** Catalog items supplied by the caller (the gateway loads them from the database). */
export interface Catalog {
  /** External item id of each row. */
  ids: readonly string[];
  /** Raw embeddings, [N, D] row-major. */
  embeddings: Float32Array;
  /** Embedding width D. */
  dim: number;
}

/** A ranked catalog item; `score` is a like-probability or a cosine similarity. */
export interface CatalogHit {
  row: number;
  id: string;
  score: number;
}

/**
 * A catalog prepared for one model version: the verifier projection `P = E Ma` [N, d] and `c = E mb` [N],
 * and embedding norms for cosine search. Scoring a user is then N·d multiply-adds.
 */
export class CatalogIndex {
  readonly size: number;
  readonly rank: number;
  private readonly rowsById: Map<string, number>;
  /** Reused between calls; scoring is synchronous so nothing else can observe it mid-use. */
  private readonly logits: Float32Array;

  private constructor(
    readonly catalog: Catalog,
    /** P, [N, d]. */
    readonly features: Float32Array,
    /** c, [N]. */
    readonly offsets: Float32Array,
    private readonly inverseNorms: Float32Array,
  ) {
    this.size = catalog.ids.length;
    this.rank = this.size === 0 ? 0 : features.length / this.size;
    this.rowsById = new Map(catalog.ids.map((id, row) => [id, row]));
    this.logits = new Float32Array(this.size);
  }

  static async build(catalog: Catalog, verifier: Verifier): Promise<CatalogIndex> {
    const n = catalog.ids.length;
    if (catalog.dim !== verifier.embeddingDim) {
      throw new Error(`catalog width ${catalog.dim} does not match the model's ${verifier.embeddingDim}`);
    }
    if (catalog.embeddings.length !== n * catalog.dim) {
      throw new Error(`catalog has ${n} ids but ${catalog.embeddings.length / catalog.dim} embedding rows`);
    }
    const { features, offsets } = await verifier.projectEmbeddings(catalog.embeddings, n);
    const inverseNorms = new Float32Array(n);
    const D = catalog.dim;
    for (let i = 0; i < n; i += 1) {
      const sum = dot(catalog.embeddings, i * D, catalog.embeddings, i * D, D);
      inverseNorms[i] = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    }
    return new CatalogIndex(catalog, features, offsets, inverseNorms);
  }

  /** Catalog row of an item id, or undefined. */
  rowOf(id: string): number | undefined {
    return this.rowsById.get(id);
  }

  /** Catalog rows of the given item ids; unknown ids are skipped. */
  rowsOf(ids: Iterable<string>): Set<number> {
    const rows = new Set<number>();
    for (const id of ids) {
      const row = this.rowsById.get(id);
      if (row !== undefined) rows.add(row);
    }
    return rows;
  }

  /** Like-probability of every catalog item for one user, [N]. */
  scoreCatalog(user: UserFactors, out: Float32Array = new Float32Array(this.size)): Float32Array {
    this.computeLogits(user, out);
    for (let i = 0; i < this.size; i += 1) out[i] = sigmoid(out[i] as number);
    return out;
  }

  /** The k items the user most likely likes, best first, skipping `excludeRows` (e.g. already rated). */
  topK(user: UserFactors, k: number, excludeRows?: ReadonlySet<number>): CatalogHit[] {
    const logits = this.computeLogits(user, this.logits);
    return this.select(logits, k, excludeRows).map((hit) => ({ ...hit, score: sigmoid(hit.score) }));
  }

  /** The k items nearest to `embedding` by cosine similarity, best first. */
  nearest(embedding: Float32Array, k: number, excludeRows?: ReadonlySet<number>): CatalogHit[] {
    const cosines = this.logits;
    this.cosinesInto(embedding, cosines, 0, this.size);
    return this.select(cosines, k, excludeRows);
  }

  /**
   * {@link nearest} in chunks of rows with the event loop free between them: a 40k x 1024 scan takes
   * ~50 ms, which must not stall a serving process (progress previews call this during generation).
   * Uses its own score buffer, since other calls may run between the chunks.
   */
  async nearestYielding(
    embedding: Float32Array,
    k: number,
    options: { chunkRows?: number; signal?: AbortSignal } = {},
  ): Promise<CatalogHit[]> {
    const chunkRows = options.chunkRows ?? 2048;
    const cosines = new Float32Array(this.size);
    for (let start = 0; start < this.size; start += chunkRows) {
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      options.signal?.throwIfAborted();
      this.cosinesInto(embedding, cosines, start, Math.min(this.size, start + chunkRows));
    }
    return this.select(cosines, k);
  }

  /** Cosine of `embedding` with catalog rows start..end-1, into `out` at the same rows. */
  private cosinesInto(embedding: Float32Array, out: Float32Array, start: number, end: number): void {
    const D = this.catalog.dim;
    if (embedding.length !== D) throw new Error(`embedding width ${embedding.length} is not ${D}`);
    const squares = dot(embedding, 0, embedding, 0, D);
    const inverse = squares > 0 ? 1 / Math.sqrt(squares) : 0;
    const E = this.catalog.embeddings;
    for (let i = start; i < end; i += 1) {
      out[i] = dot(E, i * D, embedding, 0, D) * inverse * (this.inverseNorms[i] as number);
    }
  }

  private computeLogits(user: UserFactors, out: Float32Array): Float32Array {
    const d = this.rank;
    if (user.vector.length !== d) throw new Error(`user vector width ${user.vector.length} is not ${d}`);
    const P = this.features;
    const u = user.vector;
    const offsets = this.offsets;
    const bias = user.bias;
    for (let i = 0; i < this.size; i += 1) out[i] = (offsets[i] as number) + bias + dot(P, i * d, u, 0, d);
    return out;
  }

  /** Top-k by insertion into a short sorted list: for k << N almost every item fails the first compare. */
  private select(scores: Float32Array, k: number, excludeRows?: ReadonlySet<number>): CatalogHit[] {
    const limit = Math.max(0, Math.min(Math.floor(k), this.size));
    const topRows = new Int32Array(limit);
    const topScores = new Float64Array(limit).fill(-Infinity);
    let filled = 0;
    for (let i = 0; i < this.size; i += 1) {
      const s = scores[i] as number;
      if (limit === 0 || (filled === limit && s <= (topScores[limit - 1] as number))) continue;
      if (excludeRows?.has(i)) continue;
      let pos = filled < limit ? filled : limit - 1;
      while (pos > 0 && (topScores[pos - 1] as number) < s) {
        topScores[pos] = topScores[pos - 1] as number;
        topRows[pos] = topRows[pos - 1] as number;
        pos -= 1;
      }
      topScores[pos] = s;
      topRows[pos] = i;
      if (filled < limit) filled += 1;
    }
    const hits: CatalogHit[] = [];
    for (let p = 0; p < filled; p += 1) {
      const row = topRows[p] as number;
      hits.push({ row, id: this.catalog.ids[row] as string, score: topScores[p] as number });
    }
    return hits;
  }
}
