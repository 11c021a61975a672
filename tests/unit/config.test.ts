import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 4000,
      DATA_DIR: './data',
      ORT_EXECUTION_PROVIDER: 'cpu',
      LOG_LEVEL: 'info',
      AUTH_DISABLED: false,
    });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('reports every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        ORT_EXECUTION_PROVIDER: 'tpu',
        REDIS_URL: 'localhost',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT="eighty"/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL="mysql:\/\/x": must start with postgres/);
    expect(problems.join('\n')).toMatch(/ORT_EXECUTION_PROVIDER="tpu"/);
    expect(problems.join('\n')).toMatch(/REDIS_URL="localhost"/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).PORT).toBe(4000);
  });
});
