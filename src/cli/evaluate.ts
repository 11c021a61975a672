import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { openConfiguredDatabase } from '../db/client.js';
import { createLogger } from '../lib/logger.js';
import { terminalProgress } from '../lib/progress.js';
import { startServices } from '../services/index.js';
import { type EvaluationRequest } from '../services/evaluation/evaluation.service.js';
import {
  EVALUATION_KINDS,
  type EvaluationKind,
  type EvaluationReportView,
} from '../services/evaluation/report.js';
import { type CliCommand, integerFlag, parseFlags, UsageError } from './command.js';
import { postToGateway } from './gateway-client.js';

/** The report's figures as a few lines of text. */
export function summarise(view: EvaluationReportView): string {
  const f = (value: number | null | undefined, digits = 4) =>
    value === null || value === undefined ? 'n/a' : value.toFixed(digits);
  const r = view.results;
  const lines = [`${view.kind} of model version ${view.modelVersionId}: ${view.status} (report ${view.id})`];
  if (view.status === 'failed') lines.push(`  error: ${view.error ?? 'unknown'}`);
  const p = r.personalisation;
  if (p) {
    lines.push(
      `  ${p.users} users x ${p.samplesPerUser} samples: statistic ${f(p.statistic)}, null ${f(p.permutationMean)} ± ${f(p.permutationStd)}, ` +
        `z ${f(p.z, 2)}, p ${f(p.pValue)}, own-vs-others gap ${f(p.ownVsOthersGap)}`,
    );
  }
  if (r.distribution) {
    const d = r.distribution;
    lines.push(
      `  FD ${f(d.frechetDistance, 3)}, CMMD ${f(d.cmmd, 3)} (${d.generated} generated vs ${d.reference} held-out likes)`,
    );
  }
  if (r.precisionRecall) {
    const pr = r.precisionRecall;
    lines.push(`  precision@${pr.k} ${f(pr.precision, 3)}, recall@${pr.k} ${f(pr.recall, 3)}`);
  }
  for (const row of r.sweep ?? r.ablations ?? []) {
    lines.push(
      `  ${row.label.padEnd(30)} verifier ${f(row.verifierScore, 3)}  oracle ${f(row.oracleLikeRate, 3)}  ` +
        `diversity ${f(row.diversity, 3)}  CMMD ${f(row.cmmd, 3)}  in range ${f(row.inRange, 2)}  z ${f(row.z, 1)}`,
    );
  }
  if (r.topicPrecision) {
    const t = r.topicPrecision;
    lines.push(
      `  content ${f(t.contentPrecision, 3)} (random ${f(t.randomContentPrecision, 3)}), ` +
        `style ${f(t.stylePrecision, 3)} (random ${f(t.randomStylePrecision, 3)})`,
    );
  }
  if (r.oracle) {
    const o = r.oracle;
    lines.push(
      `  oracle like-rate: generated ${f(o.generatedLikeRate, 3)}, best catalog ${f(o.bestCatalogLikeRate, 3)}, ` +
        `random catalog ${f(o.randomCatalogLikeRate, 3)}`,
    );
  }
  return lines.join('\n');
}

const RUN = `mutation Run($input: EvaluationInput!) { runEvaluation(input: $input) { id pageUrl } }`;
const WATCH = `subscription Watch($report: ID!) { evaluationProgress(report: $report) { status progress { phase done total } } }`;
const SETTING = 'label verifierScore oracleLikeRate diversity cmmd inRange z';
const READ = `query Read($id: ID!) { evaluationReport(id: $id) {
  id kind status modelVersionId error pageUrl
  personalisation { users samplesPerUser statistic permutationMean permutationStd z pValue ownVsOthersGap }
  distribution { generated reference frechetDistance cmmd }
  precisionRecall { k precision recall }
  sweep { ${SETTING} } ablations { ${SETTING} }
  topicPrecision { contentPrecision stylePrecision randomContentPrecision randomStylePrecision }
  oracle { generatedLikeRate bestCatalogLikeRate randomCatalogLikeRate }
} }`;

/** Run through a gateway's API (the embedded database has one owner: the server). */
async function viaGateway(
  url: string,
  request: EvaluationRequest,
  apiKey: string | undefined,
): Promise<EvaluationReportView & { pageUrl: string }> {
  const authorization = apiKey === undefined ? undefined : `Bearer ${apiKey}`;
  const post = (query: string, variables: Record<string, unknown>) =>
    postToGateway(url, apiKey, query, variables);
  const input = { ...request, kind: request.kind.toUpperCase(), sampler: request.sampler?.toUpperCase() };
  const started = (await post(RUN, { input })).runEvaluation as { id: string; pageUrl: string };
  const progress = terminalProgress();
  await new Promise<void>((resolve, reject) => {
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: authorization === undefined ? {} : { authorization },
    });
    client.subscribe(
      { query: WATCH, variables: { report: started.id } },
      {
        next: (result) => {
          const event = (
            result.data as {
              evaluationProgress?: { progress: { phase: string; done: number; total: number } | null };
            }
          )?.evaluationProgress;
          if (event?.progress) progress(event.progress);
        },
        error: (error) => {
          void client.dispose();
          reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
        },
        complete: () => {
          void client.dispose();
          resolve();
        },
      },
    );
  });
  progress.finish();
  const report = (await post(READ, { id: started.id })).evaluationReport as Record<string, unknown> & {
    kind: string;
    status: string;
    modelVersionId: string;
    error: string | null;
    pageUrl: string;
  };
  // The API's shape, as the summary reads a stored report.
  return {
    id: started.id,
    kind: report.kind.toLowerCase() as EvaluationKind,
    status: report.status.toLowerCase() as EvaluationReportView['status'],
    modelVersionId: Number(report.modelVersionId),
    parameters: {} as EvaluationReportView['parameters'],
    results: Object.fromEntries(
      ['personalisation', 'distribution', 'precisionRecall', 'sweep', 'ablations', 'topicPrecision', 'oracle']
        .filter((key) => report[key] !== null && report[key] !== undefined)
        .map((key) => [key, report[key]]),
    ),
    progress: null,
    error: report.error,
    createdAt: new Date(),
    finishedAt: null,
    pageUrl: report.pageUrl,
  };
}

function numbers(value: string | undefined, flag: string): number[] | undefined {
  if (value === undefined) return undefined;
  const parsed = value.split(',').map(Number);
  if (parsed.some((entry) => !Number.isFinite(entry)))
    throw new UsageError(`--${flag} is a comma-separated list of numbers`);
  return parsed;
}

export const evaluateCommand: CliCommand = {
  name: 'evaluate',
  summary:
    'Evaluate the active model (permutation test, FD/CMMD, precision/recall, sweeps, ablations) and store the report.',
  help: [
    'Flags:',
    `  --kind K            ${EVALUATION_KINDS.join(', ')} (default personalisation)`,
    '  --samples N         embeddings per user (default 25, as the reference code)',
    '  --permutations N    shuffles for the null distribution (default 1000; sweeps 200)',
    '  --sampler S         ddim (default) or ddpm (every training step)',
    '  --steps N           DDIM steps (default 50)',
    '  --guidance W        guidance scale (default: the model’s)',
    '  --verifier V        verifier guidance (default: the model’s)',
    '  --candidates N      candidates per kept embedding (default: the model’s)',
    '  --users N           evaluate the first N users only (default: all)',
    '  --scales A,B,...    guidance_sweep: scales (default 1,2,3,5,7,10)',
    '  --verifier-scales   guidance_sweep: verifier guidance scales to try too',
    '  --seed N            (default 0)',
    '  --gateway URL       run it on a running gateway (its /graphql URL) instead of in this process;',
    '                      needed beside `npm start` with the embedded database; it sends',
    '                      GATEWAY_API_KEY (an analyst or admin key)',
    '',
    'Reports are stored; GraphQL: evaluationReports, evaluationReport(id); pages at /reports/:id.',
  ].join('\n'),
  async run(argv, config) {
    const flags = parseFlags(argv, {
      kind: { type: 'string' },
      samples: { type: 'string' },
      permutations: { type: 'string' },
      sampler: { type: 'string' },
      steps: { type: 'string' },
      guidance: { type: 'string' },
      verifier: { type: 'string' },
      candidates: { type: 'string' },
      users: { type: 'string' },
      scales: { type: 'string' },
      'verifier-scales': { type: 'string' },
      seed: { type: 'string' },
      gateway: { type: 'string' },
    });
    const kind = (flags.kind ?? 'personalisation') as EvaluationKind;
    if (!EVALUATION_KINDS.includes(kind))
      throw new UsageError(`--kind must be one of ${EVALUATION_KINDS.join(', ')}`);
    const sampler = flags.sampler ?? 'ddim';
    if (sampler !== 'ddim' && sampler !== 'ddpm') throw new UsageError('--sampler must be ddim or ddpm');
    const number = (value: string | undefined, flag: string) => {
      if (value === undefined) return undefined;
      const parsed = Number(value);
      if (!Number.isFinite(parsed)) throw new UsageError(`--${flag} is a number`);
      return parsed;
    };
    const optionalInteger = (value: string | undefined, flag: string) =>
      value === undefined ? undefined : integerFlag(value, flag, 0, 0);
    const request: EvaluationRequest = {
      kind,
      samplesPerUser: optionalInteger(flags.samples, 'samples'),
      permutations: optionalInteger(flags.permutations, 'permutations'),
      sampler,
      steps: optionalInteger(flags.steps, 'steps'),
      guidanceScale: number(flags.guidance, 'guidance'),
      verifierScale: number(flags.verifier, 'verifier'),
      candidates: optionalInteger(flags.candidates, 'candidates'),
      maxUsers: optionalInteger(flags.users, 'users'),
      scales: numbers(flags.scales, 'scales'),
      verifierScales: numbers(flags['verifier-scales'], 'verifier-scales'),
      seed: optionalInteger(flags.seed, 'seed'),
    };
    if (flags.gateway !== undefined) {
      const view = await viaGateway(flags.gateway, request, config.GATEWAY_API_KEY);
      console.log(`${summarise(view)}\n  page: ${new URL(view.pageUrl, flags.gateway).toString()}`);
      if (view.status === 'failed') throw new Error(view.error ?? 'the evaluation failed');
      return;
    }
    const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
    const database = await openConfiguredDatabase(config);
    const services = await startServices({
      db: database.db,
      logger,
      config: { ...config, REDIS_URL: undefined },
    });
    try {
      const progress = terminalProgress();
      const view = await services.evaluation.runToEnd(request, progress);
      progress.finish();
      console.log(summarise(view));
      if (view.status === 'failed') throw new Error(view.error ?? 'the evaluation failed');
    } finally {
      await services.close();
      await database.close();
    }
  },
};
