import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './env';

const TOKEN = 'a-secret-of-enough-length';

describe('loadGatewayConfig', () => {
  it('refuses to start without a token, naming the variable and what to set', () => {
    expect(() => loadGatewayConfig({})).toThrow(/TRACEMEND_GATEWAY_TOKEN is required: set a secret of at least 16 characters/);
    expect(() => loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: 'short' })).toThrow('TRACEMEND_GATEWAY_TOKEN must be at least 16 characters');
  });

  it('defaults to loopback port 8787, 5 MiB bodies, the local Temporal and the repository state folder', () => {
    expect(loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN }, '/srv/checkout')).toEqual({
      port: 8787,
      host: '127.0.0.1',
      token: TOKEN,
      maxBodyBytes: 5 * 1024 * 1024,
      evidenceDir: join('/srv/checkout', '.tracemend', 'evidence'),
      temporalAddress: '127.0.0.1:7233',
      namespace: 'default',
      logLevel: 'info',
    });
  });

  it('stores alerts where the worker reads them: the evidence folder of TRACEMEND_STATE_DIR, unless TRACEMEND_EVIDENCE_DIR names one', () => {
    expect(loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN, TRACEMEND_STATE_DIR: '/var/lib/tracemend' }, '/srv/checkout').evidenceDir).toBe(join('/var/lib/tracemend', 'evidence'));
    expect(loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN, TRACEMEND_STATE_DIR: '/var/lib/tracemend', TRACEMEND_EVIDENCE_DIR: '/mnt/evidence' }).evidenceDir).toBe('/mnt/evidence');
  });

  it('seals alerts under TRACEMEND_EVIDENCE_KEY when it is set, and refuses a short one by name', () => {
    expect(loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN }).evidenceKey).toBeUndefined();
    expect(loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN, TRACEMEND_EVIDENCE_KEY: 'e'.repeat(32) }).evidenceKey).toBe('e'.repeat(32));
    expect(() => loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN, TRACEMEND_EVIDENCE_KEY: 'short' })).toThrow(/TRACEMEND_EVIDENCE_KEY must be at least 32 characters/);
  });

  it('takes a Sentry DSN key of word characters only, naming why another is refused', () => {
    expect(loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN, TRACEMEND_GATEWAY_SENTRY_KEY: 'a_sentry_key_0123456789' }).sentryKey).toBe('a_sentry_key_0123456789');
    expect(loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN }).sentryKey).toBeUndefined();
    expect(() => loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN, TRACEMEND_GATEWAY_SENTRY_KEY: 'a-sentry-key-0123456789' })).toThrow(/TRACEMEND_GATEWAY_SENTRY_KEY must be .*letters, digits or underscores.*Invalid Sentry Dsn/);
  });

  it('reads every variable and names a bad value', () => {
    const config = loadGatewayConfig({
      TRACEMEND_GATEWAY_TOKEN: TOKEN,
      TRACEMEND_GATEWAY_PORT: '9000',
      TRACEMEND_GATEWAY_MAX_BODY_BYTES: '1024',
      TRACEMEND_EVIDENCE_DIR: '/var/lib/tracemend/evidence',
      TRACEMEND_TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TRACEMEND_TEMPORAL_NAMESPACE: 'incidents',
    });
    expect(config).toMatchObject({ port: 9000, maxBodyBytes: 1024, evidenceDir: '/var/lib/tracemend/evidence', temporalAddress: 'temporal.internal:7233', namespace: 'incidents' });
    expect(() => loadGatewayConfig({ TRACEMEND_GATEWAY_TOKEN: TOKEN, TRACEMEND_GATEWAY_PORT: 'eighty' })).toThrow(/TRACEMEND_GATEWAY_PORT/);
  });
});
