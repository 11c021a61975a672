import { z } from 'zod';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_QUERY_TIMEOUT_MS } from './limits.js';

const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** The image decoder of generated items, parsed from IMAGE_DECODER once. */
export type DecoderSpec =
  | { kind: 'none' }
  | { kind: 'world'; preset: 'tiny' | 'small' | 'demo' | 'flickr'; seed: number }
  | { kind: 'http'; url: string };

export function parseDecoderSpec(value: string): DecoderSpec | null {
  if (value === 'none') return { kind: 'none' };
  const world = /^world:(tiny|small|demo|flickr):(\d+)$/.exec(value);
  if (world) return { kind: 'world', preset: world[1] as 'demo', seed: Number(world[2]) };
  if (/^https?:\/\/.+/.test(value)) return { kind: 'http', url: value };
  return null;
}

const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((value) => value === '1' || value === 'true' || value === 'yes');

const schema = z.object({
  /** TCP port of the HTTP and WebSocket server. */
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** PostgreSQL connection string; unset means the embedded PGlite database under DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  /** Folder for the embedded database and model artifacts. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Redis connection string; unset means one process does everything in memory. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  /** The active model artifact folder; unset means the newest registered version, else models/demo. */
  MODEL_DIR: z.string().min(1).optional(),
  /** Where ONNX Runtime runs the models. */
  ORT_EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  /** Log verbosity. */
  LOG_LEVEL: z.enum(logLevels).default('info'),
  /** Turn authentication off: every caller acts as an admin (local work only; refused in production). */
  AUTH_DISABLED: booleanFlag.default(false),
  /** The API key the CLI sends when it works through a gateway (`--gateway URL`). */
  GATEWAY_API_KEY: z.string().min(1).optional(),
  /** Let mutations run over WebSocket too; off, they run over HTTP only (where CORS applies). */
  WS_MUTATIONS: booleanFlag.default(false),
  /**
   * Image decoder for generated items: `none`, `world:<preset>:<seed>` (the taste world's SVG decoder),
   * or the http(s) URL of a Stable Diffusion + IP-Adapter service.
   */
  IMAGE_DECODER: z
    .string()
    .default('world:demo:1')
    .transform((value, context): DecoderSpec => {
      const spec = parseDecoderSpec(value);
      if (spec === null) {
        context.addIssue({
          code: 'custom',
          message: 'must be none, world:<preset>:<seed> or an http(s) URL',
        });
        return z.NEVER;
      }
      return spec;
    }),
  /** On a start with an empty catalog, import the demo world (what the demo model was trained on). */
  DEMO_WORLD: booleanFlag.default(true),
  /** Generation jobs one process (or one worker) runs at once; their steps share batched ONNX runs. */
  GENERATION_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
  /** Most rows (embeddings x guidance branches) in one batched denoising run. */
  BATCH_MAX_ROWS: z.coerce.number().int().min(1).default(256),
  /** Longest a denoising step waits for other requests to share its run, in milliseconds. */
  BATCH_MAX_DELAY_MS: z.coerce.number().min(0).max(1000).default(2),
  /** Longest a query or mutation may run; the fields not yet resolved then fail with QUERY_TIMEOUT. */
  QUERY_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(DEFAULT_QUERY_TIMEOUT_MS),
  /** TCP connections (HTTP and WebSocket) one gateway holds at once; more are refused. */
  MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_MAX_CONNECTIONS),
  /**
   * Browser origins besides the gateway's own that may call the API over HTTP (CORS) and open its
   * WebSocket, comma-separated (`https://app.example.com,https://admin.example.com`).
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value, context) => {
      const origins = value
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin !== '');
      for (const origin of origins) {
        if (!/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(origin)) {
          context.addIssue({ code: 'custom', message: `${origin} is not an origin (scheme://host[:port])` });
          return z.NEVER;
        }
      }
      return origins;
    }),
  /** `production` drops the development allowance of any localhost origin. */
  NODE_ENV: z.string().default('development'),
  /** Python interpreter that has PyTorch (training). */
  PYTHON: z.string().min(1).default('/usr/bin/python3'),
});

export type Config = z.infer<typeof schema>;
export type LogLevel = (typeof logLevels)[number];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment once; every bad variable is reported in one error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(schema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const result = schema
    .superRefine((config, context) => {
      if (config.AUTH_DISABLED && config.NODE_ENV === 'production') {
        context.addIssue({
          code: 'custom',
          path: ['AUTH_DISABLED'],
          message: 'is for local work only and is refused with NODE_ENV=production: create keys instead',
        });
      }
    })
    .safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.');
        return `${key}=${JSON.stringify(present[key])}: ${issue.message}`;
      }),
    );
  }
  return result.data;
}
