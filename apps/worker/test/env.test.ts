import { describe, expect, it } from 'vitest';
import { WarmPool } from '@tracemend/sandbox';
import { createLogger } from '@tracemend/telemetry';
import { loadWorkerConfig } from '../src/env';
import { createWarmPool, reproductionSettings } from '../src/stages';

const logger = createLogger({ name: 'env-test', level: 'silent' });

describe('loadWorkerConfig', () => {
  it('has defaults that work on a laptop', () => {
    const config = loadWorkerConfig({});
    expect(config.temporalAddress).toBe('127.0.0.1:7233');
    expect(config.namespace).toBe('default');
    expect(config.sandboxConcurrency).toBeGreaterThan(0);
    expect(config.workflowBundlePath).toBeUndefined();
    expect(config.stateDir).toMatch(/\.tracemend$/);
    expect(config.catalogFile).toMatch(/tracemend\.config\.yaml$/);
    expect(config.tokenKey).toBeUndefined();
  });

  it('takes a configured token key and refuses a short one', () => {
    expect(loadWorkerConfig({ TRACEMEND_TOKEN_KEY: 'k'.repeat(32), TRACEMEND_TOKEN_KEY_ID: 'k1' }).tokenKey).toEqual({ id: 'k1', secret: 'k'.repeat(32) });
    expect(() => loadWorkerConfig({ TRACEMEND_TOKEN_KEY: 'short' })).toThrow(/TRACEMEND_TOKEN_KEY: must be at least 32 characters/);
    expect(() => loadWorkerConfig({ TRACEMEND_TOKEN_KEY_ID: 'k1' })).toThrow(/TRACEMEND_TOKEN_KEY_ID is set without TRACEMEND_TOKEN_KEY/);
  });

  it('keeps no token vault unless a vault key is configured, and refuses a short one', () => {
    expect(loadWorkerConfig({}).vaultKey).toBeUndefined();
    expect(loadWorkerConfig({ TRACEMEND_VAULT_KEY: 'v'.repeat(32) }).vaultKey).toBe('v'.repeat(32));
    expect(() => loadWorkerConfig({ TRACEMEND_VAULT_KEY: 'short' })).toThrow(/TRACEMEND_VAULT_KEY: must be at least 32 characters/);
  });

  it('keeps the warm sandbox pool off unless a size is configured', async () => {
    expect(loadWorkerConfig({}).sandboxWarmPool).toBe(0);
    const config = loadWorkerConfig({ TRACEMEND_SANDBOX_WARM_POOL: '2', TRACEMEND_SANDBOX_CONCURRENCY: '3' });
    expect(config.sandboxWarmPool).toBe(2);
    expect(createWarmPool(loadWorkerConfig({}), logger)).toBeUndefined();
    const pool = createWarmPool(config, logger);
    expect(pool).toBeInstanceOf(WarmPool);
    await pool?.drain();
    expect(() => loadWorkerConfig({ TRACEMEND_SANDBOX_WARM_POOL: '-1' })).toThrow(/TRACEMEND_SANDBOX_WARM_POOL/);
  });

  it('takes the reproduction runs and threshold, and keeps the sandbox defaults when they are unset', () => {
    const defaults = loadWorkerConfig({});
    expect(defaults.reproductionRuns).toBeUndefined();
    expect(defaults.reproductionThreshold).toBeUndefined();
    expect(reproductionSettings(defaults)).toEqual({});
    const configured = loadWorkerConfig({ TRACEMEND_REPRODUCTION_RUNS: '10', TRACEMEND_REPRODUCTION_THRESHOLD: '0.9' });
    expect(configured).toMatchObject({ reproductionRuns: 10, reproductionThreshold: 0.9 });
    expect(reproductionSettings(configured)).toEqual({ runs: 10, threshold: 0.9 });
    expect(loadWorkerConfig({ TRACEMEND_REPRODUCTION_THRESHOLD: '1' }).reproductionThreshold).toBe(1);
  });

  it.each([
    ['TRACEMEND_REPRODUCTION_RUNS', '0', 'must be at least 1'],
    ['TRACEMEND_REPRODUCTION_RUNS', '2.5', 'must be a whole number'],
    ['TRACEMEND_REPRODUCTION_RUNS', 'five', 'expected number'],
    ['TRACEMEND_REPRODUCTION_RUNS', '101', 'must be at most 100'],
    ['TRACEMEND_REPRODUCTION_THRESHOLD', '0', 'must be above 0'],
    ['TRACEMEND_REPRODUCTION_THRESHOLD', '1.5', 'must be at most 1'],
    ['TRACEMEND_REPRODUCTION_THRESHOLD', '80%', 'expected number'],
  ])('refuses %s=%s, naming the variable', (name, value, problem) => {
    expect(() => loadWorkerConfig({ [name]: value })).toThrow(new RegExp(`${name}: [^;]*${problem}`));
  });

  it('names the variable that is wrong', () => {
    expect(() => loadWorkerConfig({ TRACEMEND_SANDBOX_CONCURRENCY: 'many' })).toThrow(/TRACEMEND_SANDBOX_CONCURRENCY/);
    expect(() => loadWorkerConfig({ TRACEMEND_LOG_LEVEL: 'loud' })).toThrow(/TRACEMEND_LOG_LEVEL/);
  });
});
