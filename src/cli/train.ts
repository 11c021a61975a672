import { openConfiguredDatabase } from '../db/client.js';
import { terminalProgress } from '../lib/progress.js';
import { TRAINING_PRESETS, trainModel, type TrainingPreset } from '../services/training.service.js';
import { type CliCommand, integerFlag, parseFlags, UsageError } from './command.js';

const DEVICES = ['auto', 'cpu', 'cuda'] as const;

export const trainCommand: CliCommand = {
  name: 'train',
  summary: "Train the prior and the verifier on the database's ratings, register and activate the model.",
  help: [
    'Flags:',
    '  --preset P       small (default: CPU) | large (GPU) | paper (the reference, for comparison) | tiny',
    '  --device D       auto | cpu | cuda (default auto: CUDA when PyTorch sees a GPU)',
    '  --seed N         training seed (default 0)',
    '  --max-epochs N   cap the epochs (default: the preset, with early stopping)',
    '  --no-activate    register the model version without making it the active one',
    '  --force          activate even when the health gate fails',
    "  --truth DIR      a taste world (truth.json): the health gate also records the oracle's like-rates",
    '',
    'Exports a snapshot to DATA_DIR/snapshots/, trains with `PYTHON -m training.rebeca.train` (PYTHON',
    'defaults to /usr/bin/python3, which needs python3-torch), writes the artifact to DATA_DIR/models/.',
    'After training, the health gate samples for every user of the prior and checks that the samples stay',
    "in the catalog's range (norm, per-dimension spread, Frechet distance) and are personalised (the",
    'permutation z); a model that fails is registered but not activated, with the reasons (manifest health).',
    'Running gateways switch to the newly active version within a few seconds.',
  ].join('\n'),
  async run(argv, config) {
    const flags = parseFlags(argv, {
      preset: { type: 'string' },
      device: { type: 'string' },
      seed: { type: 'string' },
      'max-epochs': { type: 'string' },
      'no-activate': { type: 'boolean' },
      force: { type: 'boolean' },
      truth: { type: 'string' },
    });
    const preset = (flags.preset ?? 'small') as TrainingPreset;
    if (!TRAINING_PRESETS.includes(preset))
      throw new UsageError(`--preset must be one of ${TRAINING_PRESETS.join(', ')}`);
    const device = (flags.device ?? 'auto') as (typeof DEVICES)[number];
    if (!DEVICES.includes(device)) throw new UsageError(`--device must be one of ${DEVICES.join(', ')}`);
    const database = await openConfiguredDatabase(config);
    try {
      const progress = terminalProgress();
      const result = await trainModel(database.db, {
        preset,
        python: config.PYTHON,
        dataDir: config.DATA_DIR,
        device,
        seed: integerFlag(flags.seed, 'seed', 0),
        maxEpochs:
          flags['max-epochs'] === undefined
            ? undefined
            : integerFlag(flags['max-epochs'], 'max-epochs', 0, 1),
        activate: flags['no-activate'] !== true,
        force: flags.force === true,
        truthDir: flags.truth,
        onExportProgress: progress,
      });
      progress.finish();
      if (result.healthProblems.length > 0) {
        console.error(
          `health gate failed: ${result.healthProblems.join('; ')}` +
            (result.version.active
              ? ' (activated anyway: --force)'
              : ' (not activated; --force to override)'),
        );
      }
      console.log(
        `model version ${result.version.id} (${preset}) ${result.version.active ? 'active' : 'registered'}: ` +
          `${result.artifactDir}`,
      );
    } finally {
      await database.close();
    }
  },
};
