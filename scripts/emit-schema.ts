// Writes schema/schema.graphql from the code, or with --check fails when the committed file differs.
import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import { buildGatewaySchema, printSortedSchema } from '../src/resolvers/schema.js';

const path = new URL('../schema/schema.graphql', import.meta.url);
const sdl = printSortedSchema(await buildGatewaySchema());
if (process.argv.includes('--check')) {
  const committed = await readFile(path, 'utf8').catch(() => '');
  if (committed !== sdl) {
    console.error('schema/schema.graphql differs from the schema the code emits: run `npm run schema:emit`.');
    process.exit(1);
  }
  console.log('schema/schema.graphql is up to date.');
} else {
  await writeFile(path, sdl);
  console.log('wrote schema/schema.graphql');
}
