import { type CliCommand, UsageError } from './command.js';

export const evaluateCommand: CliCommand = {
  name: 'evaluate',
  summary: 'Not built yet (see the open issues).',
  help: 'No flags yet.',
  async run() {
    throw new UsageError('the evaluate command is not built yet');
  },
};
