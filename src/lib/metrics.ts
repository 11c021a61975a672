import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics, served at `/metrics`. One registry per process (what Prometheus
 * scrapes is a process); the parts that produce a figure import it from here.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

export const operationDuration = new Histogram({
  name: 'gateway_operation_duration_seconds',
  help: 'GraphQL operations by transport, root field and kind: time from request to answer.',
  labelNames: ['transport', 'operation', 'kind'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const operationErrors = new Counter({
  name: 'gateway_operation_errors_total',
  help: 'Errors in GraphQL answers by transport, root field and extensions.code.',
  labelNames: ['transport', 'operation', 'code'] as const,
  registers: [metricsRegistry],
});

export const denoisingSteps = new Counter({
  name: 'generation_denoising_steps_total',
  help: 'Denoising steps done by generation jobs in this process (rate() gives steps per second).',
  registers: [metricsRegistry],
});

export const denoiseRunSeconds = new Histogram({
  name: 'onnx_denoise_run_seconds',
  help: 'Time of one batched ONNX run of the diffusion prior.',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [metricsRegistry],
});

export const denoiseBatchRows = new Histogram({
  name: 'onnx_denoise_batch_rows',
  help: 'Rows (embeddings x guidance branches) in one batched ONNX run of the prior.',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
  registers: [metricsRegistry],
});

/** Figures read from elsewhere at scrape time (the database, the reconciler), per gateway. */
type Probe = () => Promise<number> | number;
const queueProbes = new Set<Probe>();
const stuckProbes = new Set<Probe>();

async function sum(probes: Set<Probe>): Promise<number> {
  let total = 0;
  for (const probe of probes) total += await probe();
  return total;
}

new Gauge({
  name: 'generation_jobs_queued',
  help: 'Generation jobs waiting to run (queued in the database).',
  registers: [metricsRegistry],
  async collect() {
    this.set(await sum(queueProbes));
  },
});

new Gauge({
  name: 'generation_jobs_stuck',
  help: 'Jobs the reconciler found queued or running with nobody holding them (last pass).',
  registers: [metricsRegistry],
  async collect() {
    this.set(await sum(stuckProbes));
  },
});

/** Register the probes of one gateway; the returned function removes them. */
export function addJobProbes(probes: { queued?: Probe; stuck?: Probe }): () => void {
  if (probes.queued) queueProbes.add(probes.queued);
  if (probes.stuck) stuckProbes.add(probes.stuck);
  return () => {
    if (probes.queued) queueProbes.delete(probes.queued);
    if (probes.stuck) stuckProbes.delete(probes.stuck);
  };
}
