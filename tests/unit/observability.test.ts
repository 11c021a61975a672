import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, loggable } from '../../src/lib/logger.js';
import { metricsRegistry } from '../../src/lib/metrics.js';
import { MAX_LOGGED_CHARS } from '../../src/limits.js';
import { createObserver, requestIdFrom } from '../../src/server/observe.js';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return {
    stream,
    lines: () =>
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('logs', () => {
  it('writes one JSON line per call with time, level and message', () => {
    const { stream, lines } = capture();
    const logger = createLogger('info', stream);
    logger.debug('hidden');
    logger.info('hello', { n: 1 });
    expect(lines()).toEqual([{ time: expect.any(String), level: 'info', message: 'hello', n: 1 }]);
  });

  it('cuts long strings, long arrays and deep values, and logs errors without query parameters', () => {
    const long = 'x'.repeat(1024 * 1024);
    expect((loggable(long) as string).length).toBeLessThan(MAX_LOGGED_CHARS + 50);
    expect((loggable(Array.from({ length: 1000 }, (_, i) => i)) as unknown[]).length).toBe(21);
    const failed = Object.assign(new Error(`Failed query: select $1\nparams: ${long}`), {
      query: 'select $1',
      params: [long],
      cause: new Error('invalid byte sequence'),
    });
    const logged = loggable({ error: failed }) as { error: Record<string, unknown> };
    expect(Object.keys(logged.error).sort()).toEqual(['cause', 'message', 'name', 'stack']);
    expect(JSON.stringify(logged).length).toBeLessThan(3 * MAX_LOGGED_CHARS + 500);
  });
});

describe('operation observer', () => {
  it('logs one line per operation with its request id, and counts it in the metrics', async () => {
    const { stream, lines } = capture();
    const observer = createObserver(createLogger('info', stream));
    const before = await metricsRegistry.getSingleMetricAsString('gateway_operation_errors_total');
    const observed = observer.start('http', 'req-1');
    observed.describe('users', 'query', 'ListUsers');
    observed.finish(['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    observed.finish(['BAD_USER_INPUT']);
    expect(lines()).toEqual([
      {
        time: expect.any(String),
        level: 'info',
        message: 'graphql',
        requestId: 'req-1',
        transport: 'http',
        operation: 'users',
        operationName: 'ListUsers',
        kind: 'query',
        ms: expect.any(Number),
        errors: ['BAD_USER_INPUT'],
      },
    ]);
    const after = await metricsRegistry.getSingleMetricAsString('gateway_operation_errors_total');
    const count = (text: string) =>
      Number(/transport="http",operation="users",code="BAD_USER_INPUT"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(count(after) - count(before)).toBe(2);
  });

  it('keeps a plain client request id and replaces anything else', () => {
    expect(requestIdFrom('abc-123')).toBe('abc-123');
    expect(requestIdFrom('x'.repeat(65))).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('a b\nc')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
