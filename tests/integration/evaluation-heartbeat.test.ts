import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle } from '../../src/db/client.js';
import {
  failAbandonedEvaluations,
  findEvaluationReport,
  insertEvaluationReport,
  touchEvaluationReports,
} from '../../src/db/queries/evaluations.js';
import { upsertModelVersion } from '../../src/db/queries/models.js';
import { evaluationReports } from '../../src/db/schema.js';
import { testDatabases } from '../helpers/databases.js';

/**
 * A report whose gateway stopped or died must not stay RUNNING: the holder beats every few seconds,
 * and any gateway ends reports whose holder went silent. A live holder's reports are never touched,
 * so this is safe with several gateways on one database.
 */
describe.each(testDatabases)('abandoned evaluation reports on $name', (engine) => {
  let database: DatabaseHandle;
  let modelVersionId: number;

  beforeAll(async () => {
    database = await engine.open();
    modelVersionId = (
      await upsertModelVersion(database.db, {
        preset: 'tiny',
        embeddingDim: 16,
        artifactDir: '/tmp/none',
        datasetHash: null,
        metrics: {},
      })
    ).id;
  });
  afterAll(async () => database?.close());

  it('ends reports whose heartbeat is stale, keeps live and finished ones', async () => {
    const { db } = database;
    const report = () =>
      insertEvaluationReport(db, { modelVersionId, kind: 'personalisation', parameters: {} });
    const [silent, live, finished] = [await report(), await report(), await report()];
    const old = new Date(Date.now() - 120_000);
    await db
      .update(evaluationReports)
      .set({ status: 'running', heartbeatAt: old })
      .where(eq(evaluationReports.id, silent.id));
    await db
      .update(evaluationReports)
      .set({ status: 'running', heartbeatAt: old })
      .where(eq(evaluationReports.id, live.id));
    await db
      .update(evaluationReports)
      .set({ status: 'succeeded', heartbeatAt: old, finishedAt: new Date() })
      .where(eq(evaluationReports.id, finished.id));
    // The live one's holder beats; the silent one's does not.
    await touchEvaluationReports(db, [live.id, finished.id]);
    expect(await failAbandonedEvaluations(db, 'gone', 60_000)).toBe(1);
    expect(await findEvaluationReport(db, silent.id)).toMatchObject({
      status: 'failed',
      errorMessage: 'gone',
    });
    expect((await findEvaluationReport(db, silent.id))?.finishedAt).not.toBeNull();
    expect(await findEvaluationReport(db, live.id)).toMatchObject({ status: 'running' });
    expect(await findEvaluationReport(db, finished.id)).toMatchObject({
      status: 'succeeded',
      errorMessage: null,
    });
    // A queued report from before heartbeats (null) counts by its age.
    const legacy = await report();
    await db
      .update(evaluationReports)
      .set({ heartbeatAt: null, createdAt: old })
      .where(eq(evaluationReports.id, legacy.id));
    expect(await failAbandonedEvaluations(db, 'gone', 60_000)).toBe(1);
  });
});
