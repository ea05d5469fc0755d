// The gateway when Temporal does not answer: health says so, and an alert is kept and answered 503.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { fixtureAlertPaths } from '@tracemend/fixture-kit';
import { freePort } from '@tracemend/infra';
import { createEvidenceStore, type EvidenceStore } from '@tracemend/ingest';
import { createLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/index';

const TOKEN = 'test-token-0123456789abcdef';
let connection: Connection;
let gateway: Gateway;
let store: EvidenceStore;
let dir: string;

beforeAll(async () => {
  connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  dir = await mkdtemp(join(tmpdir(), 'gateway-unreachable-'));
  store = createEvidenceStore(dir);
  gateway = createGateway({
    store,
    client: new Client({ connection }),
    namespace: 'default',
    token: TOKEN,
    logger: createLogger({ name: 'gateway', level: 'silent' }),
    temporalTimeoutMs: 1_500,
  });
  await gateway.listen(0);
});

afterAll(async () => {
  await gateway?.close();
  await connection?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a gateway whose Temporal is down', () => {
  it('reports Temporal unreachable on /healthz', async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'degraded', temporal: { reachable: false, namespace: 'default' } });
  });

  it('keeps the alert and answers 503 with its id so the sender can retry', async () => {
    const body = await readFile(fixtureAlertPaths('users-api').traces, 'utf8');
    const response = await fetch(`${gateway.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('TEMPORAL_UNAVAILABLE');
    const alertId = /alertId ([0-9a-f]{64})/.exec(error.message)?.[1] ?? '';
    expect((await store.getAlert(alertId)).bytes.toString('utf8')).toBe(body);
  });
});
