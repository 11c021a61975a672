import 'reflect-metadata';
import { ConfigError, loadConfig } from './config.js';
import { type CliCommand, UsageError } from './cli/command.js';

const commands: Record<string, () => Promise<CliCommand>> = {
  serve: async () => (await import('./cli/serve.js')).serveCommand,
  worker: async () => (await import('./cli/worker.js')).workerCommand,
  import: async () => (await import('./cli/import.js')).importCommand,
  export: async () => (await import('./cli/export.js')).exportCommand,
  train: async () => (await import('./cli/train.js')).trainCommand,
  evaluate: async () => (await import('./cli/evaluate.js')).evaluateCommand,
  world: async () => (await import('./cli/world.js')).worldCommand,
  keys: async () => (await import('./cli/keys.js')).keysCommand,
};

function usage(): string {
  return [
    'Usage: npm run cli -- <command> [flags]   (npm start = serve)',
    '',
    `Commands: ${Object.keys(commands).join(', ')}`,
    'Each command prints its flags with --help.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    console.error(`Unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: npm run cli -- ${command.name} [flags]\n${command.summary}\n\n${command.help}`);
    return 0;
  }
  try {
    const config = loadConfig();
    await command.run(rest, config);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 78;
    }
    if (error instanceof UsageError) {
      console.error(`${command.name}: ${error.message}\n\n${command.help}`);
      return 2;
    }
    console.error(`${command.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof Error && error.cause !== undefined) console.error('  cause:', error.cause);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
