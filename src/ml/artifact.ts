/** The model artifact's manifest (docs/FORMATS.md, "Model artifact"): schema and loading. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const MODEL_FORMAT_VERSION = 1;

const finite = z.number().finite();
const count = z.number().int().nonnegative();

const verifierSchema = z.object({
  dim: z.number().int().positive(),
  users: z.array(z.string()),
  files: z.object({
    itemProjection: z.string().min(1),
    itemBias: z.string().min(1),
    userVectors: z.string().min(1),
    userBias: z.string().min(1),
  }),
  metrics: z.record(z.string(), finite.nullable()).optional(),
});

export const manifestSchema = z
  .object({
    formatVersion: z.literal(MODEL_FORMAT_VERSION),
    kind: z.literal('rebeca-model'),
    createdAt: z.string().optional(),
    preset: z.string().optional(),
    embeddingDim: z.number().int().positive(),
    datasetHash: z.string().optional(),
    seed: z.number().int().optional(),
    architecture: z.record(z.string(), z.unknown()).optional(),
    schedule: z.object({
      kind: z.enum(['linear', 'cosine']),
      timesteps: z.number().int().min(1),
      betaStart: finite,
      betaEnd: finite,
      predictionType: z.enum(['epsilon', 'sample', 'v_prediction']),
    }),
    /** How the prior knows the user (absent: `table`, the paper's learned rows). */
    conditioning: z
      .object({ kind: z.enum(['table', 'taste']), tasteDim: z.number().int().positive().optional() })
      .optional(),
    guidance: z.object({
      conditionDropout: finite.optional(),
      defaultScale: finite,
      /** Measured sampling defaults (absent: no verifier guidance, one candidate per item). */
      verifierScale: finite.nonnegative().optional(),
      candidates: z.number().int().min(1).optional(),
      maxCosine: finite.optional(),
    }),
    /** The training catalog's range: the clamp of the clean estimate and the check of a finished sample. */
    dataRange: z
      .object({
        lower: z.array(finite),
        upper: z.array(finite),
        normMin: finite.nonnegative(),
        normMax: finite.positive(),
        normMean: finite.positive().optional(),
        normTolerance: finite.min(1).optional(),
      })
      .optional(),
    /** The health gate's verdict at training time (train refuses to activate a model that failed it). */
    health: z
      .object({ passed: z.boolean(), reasons: z.array(z.string()) })
      .loose()
      .optional(),
    users: z.array(z.string()),
    nullUserRow: count,
    ratings: z.object({ dislike: z.literal(0), like: z.literal(1), null: z.literal(2) }),
    standardization: z.object({ mean: z.array(finite), std: z.array(finite.positive()) }),
    verifier: verifierSchema,
    preprocessing: z.record(z.string(), z.unknown()).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

export type ModelManifest = z.infer<typeof manifestSchema>;

export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/** Parse and validate a manifest, listing every problem at once. */
export function parseManifest(json: unknown, source = 'manifest.json'): ModelManifest {
  const result = manifestSchema.safeParse(json);
  const problems = result.success ? [] : [z.prettifyError(result.error)];
  // Cross-field checks run even when the schema fails elsewhere, so one read shows every problem.
  problems.push(...crossFieldProblems(json));
  if (!result.success || problems.length > 0) {
    throw new ArtifactError(`invalid model manifest ${source}:\n${problems.join('\n')}`);
  }
  return result.data;
}

function crossFieldProblems(json: unknown): string[] {
  if (typeof json !== 'object' || json === null) return [];
  const manifest = json as Partial<Record<string, unknown>>;
  const problems: string[] = [];
  const D = manifest.embeddingDim;
  const standardization = manifest.standardization as Partial<Record<string, unknown>> | undefined;
  const range = manifest.dataRange as Partial<Record<string, unknown>> | undefined;
  for (const [block, key, values] of [
    ['standardization', 'mean', standardization?.mean],
    ['standardization', 'std', standardization?.std],
    ['dataRange', 'lower', range?.lower],
    ['dataRange', 'upper', range?.upper],
  ] as const) {
    if (typeof D === 'number' && Array.isArray(values) && values.length !== D) {
      problems.push(`✖ has ${values.length} values, expected embeddingDim = ${D}\n  → at ${block}.${key}`);
    }
  }
  const conditioning = manifest.conditioning as Partial<Record<string, unknown>> | undefined;
  if (conditioning?.kind === 'taste') {
    const verifier = manifest.verifier as Partial<Record<string, unknown>> | undefined;
    const expected = typeof verifier?.dim === 'number' ? verifier.dim + 1 : undefined;
    if (conditioning.tasteDim !== expected) {
      problems.push(
        `✖ a taste-conditioned prior takes [theta, b] of width verifier.dim + 1 = ${String(expected)}, ` +
          `got ${String(conditioning.tasteDim)}\n  → at conditioning.tasteDim`,
      );
    }
  }
  const users = manifest.users;
  const nullRow = manifest.nullUserRow;
  if (Array.isArray(users) && typeof nullRow === 'number' && nullRow < users.length) {
    problems.push(
      `✖ ${nullRow} is a real user's row (users has ${users.length} entries)\n  → at nullUserRow`,
    );
  }
  return problems;
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ArtifactError(`no model artifact at ${dir}: cannot read manifest.json`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ArtifactError(`${path} is not valid JSON`, { cause: error });
  }
  return parseManifest(json, path);
}
