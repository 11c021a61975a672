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

  it('refuses AUTH_DISABLED=true in production, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig({ AUTH_DISABLED: 'true', NODE_ENV: 'production' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^AUTH_DISABLED="true": .*NODE_ENV=production/);
    expect((error as ConfigError).message).toMatch(/AUTH_DISABLED/);
    // Outside production it is allowed; off is allowed everywhere.
    expect(loadConfig({ AUTH_DISABLED: 'true' }).AUTH_DISABLED).toBe(true);
    expect(loadConfig({ AUTH_DISABLED: 'true', NODE_ENV: 'development' }).AUTH_DISABLED).toBe(true);
    expect(loadConfig({ AUTH_DISABLED: 'false', NODE_ENV: 'production' }).AUTH_DISABLED).toBe(false);
  });

  it('parses WS_MUTATIONS as a flag, off by default', () => {
    expect(loadConfig({}).WS_MUTATIONS).toBe(false);
    expect(loadConfig({ WS_MUTATIONS: '' }).WS_MUTATIONS).toBe(false);
    for (const on of ['true', '1', 'yes']) expect(loadConfig({ WS_MUTATIONS: on }).WS_MUTATIONS).toBe(true);
    for (const off of ['false', '0', 'no'])
      expect(loadConfig({ WS_MUTATIONS: off }).WS_MUTATIONS).toBe(false);
    expect(() => loadConfig({ WS_MUTATIONS: 'maybe' })).toThrow(/WS_MUTATIONS="maybe"/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).PORT).toBe(4000);
  });
});
