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
      predictionType: z.literal('epsilon'),
    }),
    guidance: z.object({ conditionDropout: finite.optional(), defaultScale: finite }),
    users: z.array(z.string()),
    nullUserRow: count,
    ratings: z.object({ dislike: z.literal(0), like: z.literal(1), null: z.literal(2) }),
    standardization: z.object({ mean: z.array(finite), std: z.array(finite.positive()) }),
    verifier: verifierSchema,
    preprocessing: z.record(z.string(), z.unknown()).optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
  })
  .loose()
  .superRefine((manifest, context) => {
    const D = manifest.embeddingDim;
    for (const key of ['mean', 'std'] as const) {
      const length = manifest.standardization[key].length;
      if (length !== D) {
        context.addIssue({
          code: 'custom',
          path: ['standardization', key],
          message: `has ${length} values, expected embeddingDim = ${D}`,
        });
      }
    }
    if (manifest.nullUserRow < manifest.users.length) {
      context.addIssue({
        code: 'custom',
        path: ['nullUserRow'],
        message: `${manifest.nullUserRow} is a real user's row (users has ${manifest.users.length} entries)`,
      });
    }
  });

export type ModelManifest = z.infer<typeof manifestSchema>;

export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/** Parse and validate a manifest, listing every problem at once. */
export function parseManifest(json: unknown, source = 'manifest.json'): ModelManifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success)
    throw new ArtifactError(`invalid model manifest ${source}:\n${z.prettifyError(result.error)}`);
  return result.data;
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
