import { openConfiguredDatabase } from '../db/client.js';
import { createLogger } from '../lib/logger.js';
import { terminalProgress } from '../lib/progress.js';
import { startServices } from '../services/index.js';
import { type PersonalisationResult } from '../services/evaluation.service.js';
import { type CliCommand, integerFlag, parseFlags, UsageError } from './command.js';

export const evaluateCommand: CliCommand = {
  name: 'evaluate',
  summary: "Run the paper's personalisation permutation test on the active model and store the report.",
  help: [
    'Flags:',
    '  --samples N        embeddings per user (default 25, as the reference code)',
    '  --permutations N   shuffles for the null distribution (default 1000)',
    '  --sampler S        ddim (default) or ddpm (every training step)',
    '  --steps N          DDIM steps (default 50)',
    '  --guidance W       guidance scale (default: the model’s)',
    '  --seed N           (default 0)',
    '',
    'Reports are kept in the database; GraphQL: evaluationReports(modelVersion, kind).',
  ].join('\n'),
  async run(argv, config) {
    const flags = parseFlags(argv, {
      samples: { type: 'string' },
      permutations: { type: 'string' },
      sampler: { type: 'string' },
      steps: { type: 'string' },
      guidance: { type: 'string' },
      seed: { type: 'string' },
    });
    const sampler = flags.sampler ?? 'ddim';
    if (sampler !== 'ddim' && sampler !== 'ddpm') throw new UsageError('--sampler must be ddim or ddpm');
    const guidanceScale = flags.guidance === undefined ? undefined : Number(flags.guidance);
    if (guidanceScale !== undefined && !Number.isFinite(guidanceScale))
      throw new UsageError('--guidance is a number');
    const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
    const database = await openConfiguredDatabase(config);
    const services = await startServices({
      db: database.db,
      logger,
      config: { ...config, REDIS_URL: undefined },
    });
    try {
      const progress = terminalProgress();
      const report = await services.evaluation.personalisation(
        {
          samplesPerUser: integerFlag(flags.samples, 'samples', 25, 1),
          permutations: integerFlag(flags.permutations, 'permutations', 1000, 1),
          sampler,
          steps: integerFlag(flags.steps, 'steps', 50, 1),
          guidanceScale,
          seed: integerFlag(flags.seed, 'seed', 0),
        },
        progress,
      );
      progress.finish();
      const r = report.results as PersonalisationResult;
      console.log(
        `personalisation of model version ${report.modelVersionId}: ${r.users} users x ${r.samplesPerUser} samples\n` +
          `  statistic ${r.statistic.toFixed(4)}, permutations ${r.permutationMean.toFixed(4)} ± ${r.permutationStd.toFixed(4)}, ` +
          `z ${r.z.toFixed(2)}, p ${r.pValue.toFixed(4)}, own-vs-others gap ${r.ownVsOthersGap.toFixed(4)}\n` +
          `  report ${report.id}`,
      );
    } finally {
      await services.close();
      await database.close();
    }
  },
};
