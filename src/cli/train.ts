import { type CliCommand, UsageError } from './command.js';

export const trainCommand: CliCommand = {
  name: 'train',
  summary: 'Not built yet (see the open issues).',
  help: 'No flags yet.',
  async run() {
    throw new UsageError('the train command is not built yet');
  },
};
