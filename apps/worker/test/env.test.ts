import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/env';

describe('loadWorkerConfig', () => {
  it('has defaults that work on a laptop', () => {
    const config = loadWorkerConfig({});
    expect(config.temporalAddress).toBe('127.0.0.1:7233');
    expect(config.namespace).toBe('default');
    expect(config.sandboxConcurrency).toBeGreaterThan(0);
    expect(config.workflowBundlePath).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    expect(() => loadWorkerConfig({ TRACEMEND_SANDBOX_CONCURRENCY: 'many' })).toThrow(/TRACEMEND_SANDBOX_CONCURRENCY/);
    expect(() => loadWorkerConfig({ TRACEMEND_LOG_LEVEL: 'loud' })).toThrow(/TRACEMEND_LOG_LEVEL/);
  });
});
