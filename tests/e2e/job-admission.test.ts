import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import { MAX_OPEN_JOBS_PER_USER } from '../../src/limits.js';
import { testDatabases } from '../helpers/databases.js';
import { StepGate } from '../helpers/gate.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { importTinyDataset, TINY_MODEL_DIR } from '../helpers/tiny-world.js';

/**
 * The per-user job limit under truly concurrent requests: 50 `generate` for one user at once, over two
 * gateways on the same database (on PostgreSQL the requests run on several pooled connections at once).
 * Count-then-insert let 48 of 50 through on PostgreSQL; admission now runs behind an advisory lock in the
 * insert's transaction.
 */
describe.each(testDatabases)('job admission under concurrency on $name', (engine) => {
  let database: DatabaseHandle;
  const gateways: TestGateway[] = [];
  const gate = new StepGate();

  beforeAll(async () => {
    database = await engine.open();
    await importTinyDataset(database);
    gate.close(); // no job may finish (and free its slot) during the burst
    gateways.push(
      await startTestGateway(database, { MODEL_DIR: TINY_MODEL_DIR }, { wrapDenoiser: gate.wrap }),
    );
    gateways.push(
      await startTestGateway(database, { MODEL_DIR: TINY_MODEL_DIR }, { wrapDenoiser: gate.wrap }),
    );
  });
  afterAll(async () => {
    gate.open();
    for (const gateway of gateways) await gateway.stop();
    await database?.close();
  });

  it('admits exactly the limit of 50 concurrent generate for one user', async () => {
    const first = await fetch(gateways[0]!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 1) { edges { node { id } } } }' }),
    });
    const user = ((await first.json()) as { data: { users: { edges: { node: { id: string } }[] } } }).data
      .users.edges[0]!.node.id;
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const response = await fetch(gateways[i % 2]!.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: `mutation { generate(user: "${user}", count: 1, steps: 5) { id } }`,
          }),
        });
        return (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      }),
    );
    const accepted = answers.filter((answer) => answer.errors === undefined).length;
    const refused = answers.filter((answer) => answer.errors?.[0]?.extensions?.code === 'RESOURCE_EXHAUSTED');
    expect(accepted).toBe(MAX_OPEN_JOBS_PER_USER);
    expect(refused).toHaveLength(50 - MAX_OPEN_JOBS_PER_USER);
  });
});
