import { type CliCommand, UsageError } from './command.js';

export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'Not built yet (see the open issues).',
  help: 'No flags yet.',
  async run() {
    throw new UsageError('the worker command is not built yet');
  },
};
