import { describe, expect, it } from 'vitest';
import { FeatureFlagsConfig } from '@tracemend/contracts';
import { flagEnvironment } from './flags';
import { harnessJobLine, type ReplayJob } from './replay';

const flags = { 'notify.channel-throttle': true, 'checkout.v2': false, region: 'eu' };

describe('flagEnvironment', () => {
  it('writes the flags as one JSON FEATURE_FLAGS variable when the catalog names no setting', () => {
    expect(flagEnvironment({ featureFlags: flags, env: { A: '1' } })).toEqual({ A: '1', FEATURE_FLAGS: JSON.stringify(flags) });
  });

  it('writes key=value pairs with the words and separator the catalog names, into its variable', () => {
    const setting = FeatureFlagsConfig.parse({ env: 'APP_FLAGS', format: 'pairs', on: 'on', off: 'off', separator: ';' });
    expect(flagEnvironment({ featureFlags: flags, env: {} }, setting)).toEqual({ APP_FLAGS: 'notify.channel-throttle=on;checkout.v2=off;region=eu' });
  });

  it('leaves a variable the recorded environment carries, and sets nothing without flags', () => {
    expect(flagEnvironment({ featureFlags: flags, env: { FEATURE_FLAGS: 'recorded' } })).toEqual({ FEATURE_FLAGS: 'recorded' });
    expect(flagEnvironment({ featureFlags: {}, env: { A: '1' } }, FeatureFlagsConfig.parse({ env: 'APP_FLAGS' }))).toEqual({ A: '1' });
  });

  it('is applied when the job line is made, so every replay (reproduce, minimize, spectrum) sees the same', () => {
    const job: ReplayJob = {
      id: 'j',
      entry: { kind: 'function', module: 'src/h.js', export: 'h', args: [] },
      environment: { featureFlags: { beta: true }, env: {} },
      timing: { recordedAt: '2026-11-20T10:42:17.503Z' },
      downstream: [],
      flags: FeatureFlagsConfig.parse({ env: 'FLAGS', format: 'pairs' }),
    };
    const line = JSON.parse(harnessJobLine(job)) as { environment: { env: Record<string, string> }; flags?: unknown };
    expect(line.environment.env).toEqual({ FLAGS: 'beta=true' });
    expect(line.flags).toBeUndefined();
  });
});
