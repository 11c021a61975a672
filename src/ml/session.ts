/**
 * The one module that imports onnxruntime-node: it creates sessions, checks inputs against the model
 * and converts between our typed arrays and ORT tensors, so no tensor escapes it.
 */
import * as ort from 'onnxruntime-node';
import { abortError, type Denoiser } from './denoiser.js';

/** Where ONNX Runtime runs the prior. */
export type ExecutionProvider = 'cpu' | 'cuda';

export interface PriorSessionOptions {
  /** CPU by default; `cuda` fails at creation with a clear error when the CUDA provider is missing. */
  executionProvider?: ExecutionProvider;
  /** CUDA device ordinal (default 0). */
  deviceId?: number;
  /** ORT intra-op threads (default: ORT's choice, one per core). */
  intraOpThreads?: number;
  /**
   * Let idle ORT threads spin between runs (default false): spinning only pays when runs come back to back
   * with no JavaScript in between, and here the sampler's step and other requests need those cores.
   */
  allowSpinning?: boolean;
  /** Embedding width D the model must take. */
  embeddingDim: number;
  /** Training timesteps T: timestep inputs must lie in 0..T-1. */
  timesteps: number;
  /** How the prior takes the user: `user_row` (table) or `user_vector` + `user_present` (taste). */
  conditioning: PriorConditioning;
}

/** `table`: rows 0..nullUserRow-1 are the training users. `taste`: vectors of width tasteDim. */
export type PriorConditioning = { kind: 'table'; nullUserRow: number } | { kind: 'taste'; tasteDim: number };

/** One batch for the prior: `rows` rows of noisy embeddings with their conditioning. */
export interface PriorInputs {
  /** Standardised noisy embeddings, [rows, D]. */
  noisyEmbedding: Float32Array;
  /** Per-row timestep in 0..T-1. */
  timestep: BigInt64Array;
  /** Per-row rating: 0 dislike, 1 like, 2 null. */
  rating: BigInt64Array;
  /** Table-conditioned priors: per-row prior user row (the null row for no user). */
  userRow?: BigInt64Array;
  /** Taste-conditioned priors: per-row taste vector, [rows, tasteDim]. */
  userVector?: Float32Array;
  /** Taste-conditioned priors: per-row 1 (a user) or 0 (no user: the null condition). */
  userPresent?: Float32Array;
}

/** A bad input or a failed run; the message lists what was given and what the model takes. */
export class ModelInputError extends Error {
  override name = 'ModelInputError';
}

export class ExecutionProviderError extends Error {
  override name = 'ExecutionProviderError';
}

const TABLE_INPUTS = ['noisy_embedding', 'timestep', 'user_row', 'rating'] as const;
const TASTE_INPUTS = ['noisy_embedding', 'timestep', 'user_vector', 'user_present', 'rating'] as const;
/** The prior's output: noise, clean sample or v, as the manifest's predictionType says. */
const OUTPUT = 'predicted_noise';
const FLOAT_INPUTS: ReadonlySet<string> = new Set(['noisy_embedding', 'user_vector', 'user_present']);
const RATING_VALUES = 3;

/** Cumulative time inside `session.run`, for measuring the sampler's overhead. */
export interface RunStats {
  runs: number;
  rows: number;
  milliseconds: number;
}

export class PriorSession implements Denoiser {
  readonly stats: RunStats = { runs: 0, rows: 0, milliseconds: 0 };
  private disposed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly options: PriorSessionOptions,
    readonly executionProvider: ExecutionProvider,
  ) {}

  static async create(modelPath: string, options: PriorSessionOptions): Promise<PriorSession> {
    const provider = options.executionProvider ?? 'cpu';
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } },
    };
    if (provider === 'cuda') {
      const backends = ort.listSupportedBackends().map((backend) => backend.name);
      if (!backends.includes('cuda')) {
        throw new ExecutionProviderError(
          `ORT_EXECUTION_PROVIDER=cuda, but this onnxruntime-node build offers only ${backends.join(', ')}; ` +
            'on a GPU host install it with --onnxruntime-node-install=cuda12',
        );
      }
      sessionOptions.executionProviders = [{ name: 'cuda', deviceId: options.deviceId ?? 0 }];
    } else {
      sessionOptions.executionProviders = ['cpu'];
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, sessionOptions);
    } catch (error) {
      if (provider === 'cuda') {
        throw new ExecutionProviderError(
          `could not create a CUDA session for ${modelPath} (are the CUDA 12 libraries and a GPU present? ` +
            `install onnxruntime-node with --onnxruntime-node-install=cuda12): ${errorMessage(error)}`,
          { cause: error },
        );
      }
      throw new Error(`could not load the prior ${modelPath}: ${errorMessage(error)}`, { cause: error });
    }
    const prior = new PriorSession(session, options, provider);
    try {
      prior.checkSignature();
    } catch (error) {
      await session.release();
      throw error;
    }
    return prior;
  }

  get embeddingDim(): number {
    return this.options.embeddingDim;
  }

  /** Throws a {@link ModelInputError} naming every problem with `inputs`; returns the row count. */
  validate(inputs: PriorInputs): number {
    const D = this.options.embeddingDim;
    const rows = inputs.timestep.length;
    const problems: string[] = [];
    if (rows === 0) problems.push('the batch is empty');
    if (inputs.noisyEmbedding.length !== rows * D) {
      problems.push(`noisy_embedding holds ${inputs.noisyEmbedding.length} values, expected ${rows} x ${D}`);
    }
    if (inputs.rating.length !== rows)
      problems.push(`rating has ${inputs.rating.length} rows, expected ${rows}`);
    checkRange(problems, 'timestep', inputs.timestep, this.options.timesteps - 1);
    checkRange(problems, 'rating', inputs.rating, RATING_VALUES - 1);
    const conditioning = this.options.conditioning;
    if (conditioning.kind === 'table') {
      if (inputs.userRow?.length !== rows)
        problems.push(`user_row has ${inputs.userRow?.length ?? 'no'} rows, expected ${rows}`);
      else checkRange(problems, 'user_row', inputs.userRow, conditioning.nullUserRow);
    } else {
      const k = conditioning.tasteDim;
      if (inputs.userVector?.length !== rows * k)
        problems.push(
          `user_vector holds ${inputs.userVector?.length ?? 'no'} values, expected ${rows} x ${k}`,
        );
      if (inputs.userPresent?.length !== rows)
        problems.push(`user_present has ${inputs.userPresent?.length ?? 'no'} rows, expected ${rows}`);
    }
    if (problems.length > 0) {
      throw new ModelInputError(`bad prior inputs: ${problems.join('; ')}. ${describeInputs(inputs, D)}`);
    }
    return rows;
  }

  /** Predicted noise [rows, D] for one batch. */
  async run(inputs: PriorInputs): Promise<Float32Array> {
    if (this.disposed) throw new Error('the prior session was disposed');
    const rows = this.validate(inputs);
    const D = this.options.embeddingDim;
    const feeds: Record<string, ort.Tensor> = {
      noisy_embedding: new ort.Tensor('float32', inputs.noisyEmbedding, [rows, D]),
      timestep: new ort.Tensor('int64', inputs.timestep, [rows]),
      rating: new ort.Tensor('int64', inputs.rating, [rows]),
    };
    const conditioning = this.options.conditioning;
    if (conditioning.kind === 'table') {
      feeds.user_row = new ort.Tensor('int64', inputs.userRow as BigInt64Array, [rows]);
    } else {
      feeds.user_vector = new ort.Tensor('float32', inputs.userVector as Float32Array, [
        rows,
        conditioning.tasteDim,
      ]);
      feeds.user_present = new ort.Tensor('float32', inputs.userPresent as Float32Array, [rows]);
    }
    const started = performance.now();
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds);
    } catch (error) {
      throw new ModelInputError(`prior run failed: ${errorMessage(error)}. ${describeInputs(inputs, D)}`, {
        cause: error,
      });
    }
    this.stats.milliseconds += performance.now() - started;
    this.stats.runs += 1;
    this.stats.rows += rows;
    const output = results[OUTPUT];
    if (!output || output.type !== 'float32' || output.data.length !== rows * D) {
      throw new ModelInputError(
        `prior output ${OUTPUT} is ${output ? `${output.type} [${output.dims.join(', ')}]` : 'missing'}, ` +
          `expected float32 [${rows}, ${D}]`,
      );
    }
    const data = output.data as Float32Array;
    output.dispose();
    return data;
  }

  /** The unbatched path: one run for this request alone. */
  async denoise(inputs: PriorInputs, signal?: AbortSignal): Promise<Float32Array> {
    if (signal?.aborted) throw abortError(signal);
    const noise = await this.run(inputs);
    if (signal?.aborted) throw abortError(signal);
    return noise;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }

  /** The model must take exactly the inputs of its conditioning, with width D, and give predicted_noise. */
  private checkSignature(): void {
    const D = this.options.embeddingDim;
    const names = [...this.session.inputNames].sort();
    const wanted = [...(this.options.conditioning.kind === 'table' ? TABLE_INPUTS : TASTE_INPUTS)].sort();
    const problems: string[] = [];
    if (names.join(',') !== wanted.join(',')) {
      problems.push(`inputs are ${names.join(', ')}; expected ${wanted.join(', ')}`);
    }
    if (!this.session.outputNames.includes(OUTPUT)) {
      problems.push(`outputs are ${this.session.outputNames.join(', ')}; expected ${OUTPUT}`);
    }
    for (const meta of this.session.inputMetadata) {
      if (!meta.isTensor) continue;
      const wantedType = FLOAT_INPUTS.has(meta.name) ? 'float32' : 'int64';
      if (meta.type !== wantedType) problems.push(`${meta.name} is ${meta.type}, expected ${wantedType}`);
      const width = meta.shape[1];
      if (meta.name === 'noisy_embedding' && typeof width === 'number' && width !== D) {
        problems.push(
          `noisy_embedding is [${meta.shape.join(', ')}], expected [batch, ${D}] (manifest embeddingDim)`,
        );
      }
    }
    if (problems.length > 0)
      throw new ModelInputError(`prior.onnx does not match the manifest: ${problems.join('; ')}`);
  }
}

function checkRange(problems: string[], name: string, values: BigInt64Array, max: number): void {
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i] as bigint;
    if (value < 0n || value > BigInt(max)) {
      problems.push(`${name}[${i}] = ${value} is outside 0..${max}`);
      return;
    }
  }
}

/** Names, types and dims of what was given, for error messages. */
function describeInputs(inputs: PriorInputs, D: number): string {
  const rowsOf = (length: number): string => (length % D === 0 ? `${length / D}, ${D}` : `${length} values`);
  const user =
    inputs.userRow !== undefined
      ? `user_row int64 [${inputs.userRow.length}]`
      : `user_vector float32 [${inputs.userVector?.length ?? 0} values], user_present float32 [${inputs.userPresent?.length ?? 0}]`;
  return (
    `Given: noisy_embedding float32 [${rowsOf(inputs.noisyEmbedding.length)}], ` +
    `timestep int64 [${inputs.timestep.length}], ${user}, rating int64 [${inputs.rating.length}]. ` +
    `Model takes: noisy_embedding float32 [batch, ${D}], timestep int64 [batch], the user ` +
    `(user_row int64 [batch], or user_vector float32 [batch, k] and user_present float32 [batch]), ` +
    `rating int64 [batch].`
  );
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
