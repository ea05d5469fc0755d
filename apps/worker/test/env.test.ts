import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/env';

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

  it('names the variable that is wrong', () => {
    expect(() => loadWorkerConfig({ TRACEMEND_SANDBOX_CONCURRENCY: 'many' })).toThrow(/TRACEMEND_SANDBOX_CONCURRENCY/);
    expect(() => loadWorkerConfig({ TRACEMEND_LOG_LEVEL: 'loud' })).toThrow(/TRACEMEND_LOG_LEVEL/);
  });
});
