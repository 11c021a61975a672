import { join } from 'node:path';
import { readNpy } from '../lib/npy.js';
import { ArtifactError, readManifest, type ModelManifest } from './artifact.js';
import { type DataRange, dataRangeFromManifest } from './data-range.js';
import { type PredictionType } from './prediction.js';
import { type UserCondition } from './sampler.js';
import { makeNoiseSchedule, type NoiseSchedule } from './schedule.js';
import { type ExecutionProvider, type PriorConditioning, PriorSession } from './session.js';
import { Verifier } from './verifier.js';

/** How a model artifact is opened. */
export interface LoadModelOptions {
  /** Where the prior runs (default cpu). */
  executionProvider?: ExecutionProvider;
  /** CUDA device ordinal (default 0). */
  deviceId?: number;
  /** ORT intra-op threads for the prior (default: one per core). */
  intraOpThreads?: number;
  /** Let idle ORT threads spin between runs (default false). */
  allowSpinning?: boolean;
}

/** A loaded model artifact: the prior session, the verifier and the manifest's conventions. */
export class RebecaModel {
  readonly embeddingDim: number;
  readonly schedule: NoiseSchedule;
  readonly predictionType: PredictionType;
  readonly conditioning: PriorConditioning;
  readonly standardization: { mean: Float32Array; std: Float32Array };
  /** The training catalog's range (null for artifacts written before it was recorded). */
  readonly dataRange: DataRange | null;
  private readonly priorRows: Map<string, number>;

  constructor(
    readonly dir: string,
    readonly manifest: ModelManifest,
    readonly prior: PriorSession,
    readonly verifier: Verifier,
  ) {
    this.embeddingDim = manifest.embeddingDim;
    this.schedule = makeNoiseSchedule(manifest.schedule);
    this.predictionType = manifest.schedule.predictionType;
    this.conditioning = priorConditioning(manifest);
    this.standardization = {
      mean: Float32Array.from(manifest.standardization.mean),
      std: Float32Array.from(manifest.standardization.std),
    };
    this.dataRange = dataRangeFromManifest(manifest);
    this.priorRows = new Map(manifest.users.map((id, row) => [id, row]));
  }

  get nullUserRow(): number {
    return this.manifest.nullUserRow;
  }

  get defaultGuidanceScale(): number {
    return this.manifest.guidance.defaultScale;
  }

  /**
   * The prior's condition for a user: their row (table priors; undefined for users without one) or their
   * verifier factors as `[theta, b]` (taste priors: any user with a vector).
   */
  userCondition(userId: string, factors: { vector: Float32Array; bias: number }): UserCondition | undefined {
    if (this.conditioning.kind === 'table') {
      const row = this.priorRows.get(userId);
      return row === undefined ? undefined : { kind: 'row', row };
    }
    const vector = new Float32Array(this.conditioning.tasteDim);
    vector.set(factors.vector);
    vector[factors.vector.length] = factors.bias;
    return { kind: 'taste', vector };
  }

  /** Releases the ONNX session; the model is unusable afterwards. */
  dispose(): Promise<void> {
    return this.prior.dispose();
  }
}

/** Open a model artifact folder: validate manifest.json, read the verifier, create the prior session. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<RebecaModel> {
  const manifest = await readManifest(dir);
  const verifier = await loadVerifier(dir, manifest);
  const prior = await PriorSession.create(join(dir, 'prior.onnx'), {
    embeddingDim: manifest.embeddingDim,
    timesteps: manifest.schedule.timesteps,
    conditioning: priorConditioning(manifest),
    ...options,
  });
  return new RebecaModel(dir, manifest, prior, verifier);
}

function priorConditioning(manifest: ModelManifest): PriorConditioning {
  return manifest.conditioning?.kind === 'taste'
    ? { kind: 'taste', tasteDim: manifest.conditioning.tasteDim ?? manifest.verifier.dim + 1 }
    : { kind: 'table', nullUserRow: manifest.nullUserRow };
}

async function loadVerifier(dir: string, manifest: ModelManifest): Promise<Verifier> {
  const D = manifest.embeddingDim;
  const d = manifest.verifier.dim;
  const U = manifest.verifier.users.length;
  const files = manifest.verifier.files;
  const read = async (file: string, shape: number[]): Promise<Float32Array> => {
    const path = join(dir, file);
    let array: { shape: number[]; data: Float32Array };
    try {
      array = await readNpy(path);
    } catch (error) {
      throw new ArtifactError(`cannot read verifier file ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (array.shape.join(',') !== shape.join(',')) {
      throw new ArtifactError(
        `${path} has shape [${array.shape.join(', ')}], the manifest implies [${shape.join(', ')}]`,
      );
    }
    return array.data;
  };
  const results = await Promise.allSettled([
    read(files.itemProjection, [D, d]),
    read(files.itemBias, [D]),
    read(files.userVectors, [U, d]),
    read(files.userBias, [U]),
  ]);
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [result.reason as Error] : [],
  );
  if (failures.length > 0) {
    throw new ArtifactError(failures.map((error) => error.message).join('; '), { cause: failures[0] });
  }
  const [itemProjection, itemBias, userVectors, userBiases] = results.map((result) =>
    result.status === 'fulfilled' ? result.value : new Float32Array(),
  ) as [Float32Array, Float32Array, Float32Array, Float32Array];
  return new Verifier({
    embeddingDim: D,
    rank: d,
    itemProjection,
    itemBias,
    userVectors,
    userBiases,
    users: manifest.verifier.users,
  });
}
