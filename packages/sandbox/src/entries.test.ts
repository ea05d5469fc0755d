import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContract, Reproduction, type Entry, type FailureEnvelope, type HttpEntry, type MessageEntry } from '@tracemend/contracts';
import { fixtureEnvelope, testDriver, testLogger, type PreparedRepo } from '../test/fixtures';
import { prepareServiceRepo } from '../test/service-repo';
import { buildBaseImage, sandboxImageTag } from './image/build-base-image';
import { resolveEntry, type EntryHandlers } from './invocation';
import { ResidentHarness, type HttpApp, type ReplayJob, type ReplayResult } from './replay';
import { reproduce } from './reproduce';

const runId = `${process.pid}-${Date.now()}`;
const labels = { 'tracemend.incident': `test-${runId}` };
const RECORDED_AT = '2026-11-20T10:42:17.503Z';
const at = { service: 'orders', recordedAt: RECORDED_AT };
const DEPS_ARGS = { module: 'test/deps.mjs', export: 'buildDeps' };
let root: string;
let service: PreparedRepo;
let harness: ResidentHarness;

beforeAll(async () => {
  await buildBaseImage();
  root = await mkdtemp(join(tmpdir(), 'tracemend-entries-'));
  service = await prepareServiceRepo(join(root, 'service'));
  harness = await ResidentHarness.start({ driver: testDriver, image: sandboxImageTag(), repoDir: service.repoDir, depsDir: service.depsDir, labels, logger: testLogger });
}, 600_000);

afterAll(async () => {
  await harness?.close();
  await testDriver.reapOrphans({ olderThanMs: 0, labels });
  await rm(root, { recursive: true, force: true });
});

let jobs = 0;
function job(entry: Entry, httpApp?: HttpApp): ReplayJob {
  return { id: `job-${++jobs}`, entry, ...(httpApp ? { httpApp } : {}), environment: { featureFlags: {}, env: {} }, timing: { recordedAt: RECORDED_AT }, downstream: [] };
}

function order(id: string, body: unknown): HttpEntry {
  return {
    kind: 'http',
    method: 'POST',
    route: '/orders/:id',
    path: `/orders/${id}`,
    query: { expand: 'lines', page: '2' },
    headers: { 'x-tenant': 'acme', 'content-type': 'application/json' },
    body: body as HttpEntry['body'],
  };
}

function inAppFrames(result: ReplayResult): Array<{ function: string; file: string }> {
  if (result.outcome === 'harness-error') throw new Error(`harness error: ${result.message}`);
  return (result.error?.frames ?? []).filter((frame) => frame.inApp).map((frame) => ({ function: frame.function, file: frame.file }));
}

const FRAMEWORKS: Array<[string, HttpApp]> = [
  ['express (a request listener with listen())', { module: 'src/express-app.mjs', export: 'createApp', args: DEPS_ARGS }],
  ['fastify (async factory, app not ready)', { module: 'src/fastify-app.mjs', export: 'buildApp', args: DEPS_ARGS }],
  ['koa (app.callback())', { module: 'src/koa-app.mjs', export: 'createApp', args: DEPS_ARGS }],
  ['hapi (server.listener after initialize())', { module: 'src/hapi-app.mjs', export: 'createServer', args: DEPS_ARGS }],
  ['NestJS (init() then getHttpServer())', { module: 'src/nest-app.mjs', export: 'createNestApp', args: DEPS_ARGS }],
  ['a plain request listener', { module: 'src/listener.mjs', export: 'createListener', args: DEPS_ARGS }],
  ['an http.Server', { module: 'src/listener.mjs', export: 'createHttpServer', args: DEPS_ARGS }],
];

describe('http entries on every framework, factories built with their arguments', () => {
  it.each(FRAMEWORKS)('%s receives the recorded request intact and reports a crash in its route', async (_name, httpApp) => {
    const body = { lines: [{ sku: 'DESK-19', qty: 2 }], note: 'ünïcode' };
    const echoed = await harness.judge(job(order('42', body), httpApp));
    expect(echoed).toMatchObject({ outcome: 'http', httpStatus: 200 });
    if (echoed.outcome !== 'http') throw new Error('expected an http outcome');
    expect(JSON.parse(echoed.httpBody ?? '')).toEqual({ store: 'memory-store', method: 'POST', id: '42', query: { expand: 'lines', page: '2' }, tenant: 'acme', body });

    const crashed = await harness.judge(job(order('crash', { note: 'no lines' }), httpApp));
    expect(crashed).toMatchObject({ outcome: 'http', httpStatus: 500, error: { type: 'TypeError', message: "Cannot read properties of undefined (reading 'reduce')" } });
    const frames = inAppFrames(crashed);
    expect(frames.slice(0, 2)).toEqual([
      { function: 'priceOf', file: 'src/pricing.mjs' },
      { function: 'handleOrder', file: 'src/orders.mjs' },
    ]);
    // The route itself is the third repository frame (V8 prefixes a method's class: OrdersController.route).
    expect(frames[2]?.file).toBe(httpApp.module);
    expect(frames[2]?.function).toMatch(/(^|\.)route$/);
  });

  it('takes a value export as the one argument, and an array from a function as the argument list', async () => {
    const single = await harness.judge(job(order('7', { lines: [] }), { module: 'src/express-app.mjs', export: 'createApp', args: { module: 'test/deps.mjs', export: 'single' } }));
    expect(single.outcome === 'http' && JSON.parse(single.httpBody ?? '')).toMatchObject({ store: 'single-value' });
  });

  it('names what it could not serve when the factory returns something else', async () => {
    const result = await harness.judge(job(order('7', {}), { module: 'test/deps.mjs', export: 'buildDeps' }));
    expect(result.outcome).toBe('harness-error');
    expect(result.outcome === 'harness-error' && result.message).toContain('none of: an http.Server, a request listener');
  });
});

describe('function (FaaS) entries', () => {
  const recorded = { kind: 'function', module: '', export: 'handler', trigger: 'pubsub', eventShape: 'raw' } as const;

  it("wraps a raw payload in the SQS event the catalog names and passes a Lambda context built from the recorded one", async () => {
    const handlers: EntryHandlers = { functionHandler: { module: 'src/lambda.mjs', export: 'handler', event: 'sqs' } };
    const entry = resolveEntry({ ...recorded, args: [{ orderId: 'o-1' }, { awsRequestId: 'req-9', functionName: 'orders-fn', memoryLimitInMB: 512 }] }, handlers, at);
    const result = await harness.judge(job(entry));
    expect(result).toMatchObject({
      outcome: 'returned',
      value: { orders: [{ orderId: 'o-1' }], requestId: 'req-9', functionName: 'orders-fn', arn: 'arn:aws:lambda:us-east-1:000000000000:function:orders-fn', memory: '512', remaining: 30_000, waits: true },
    });
  });

  it('settles a callback-style handler through its callback, with its error as the failure', async () => {
    const handlers: EntryHandlers = { functionHandler: { module: 'src/lambda.mjs', export: 'legacy', event: 'eventbridge' } };
    const ok = await harness.judge(job(resolveEntry({ ...recorded, args: [{ lines: [1, 2, 3] }] }, handlers, at)));
    expect(ok).toMatchObject({ outcome: 'returned', value: { lines: 3, type: 'tracemend.replay' } });
    const failed = await harness.judge(job(resolveEntry({ ...recorded, args: [{}, { functionName: 'legacy-fn' }] }, handlers, at)));
    expect(failed).toMatchObject({ outcome: 'threw', error: { type: 'TypeError', message: 'no lines in legacy-fn' } });
  });
});

describe('message entries in the envelope the handler expects', () => {
  const message: MessageEntry = { kind: 'message', module: '', export: 'handler', topic: 'orders', payload: { lines: [{ sku: 'A' }] }, messageId: 'm-7', key: 'o-7', headers: { tenant: 'acme' } };
  const deliver = (exportName: string, envelope: 'sqs-batch' | 'sqs-record' | 'sns' | 'kafka' | 'payload') =>
    harness.judge(job(resolveEntry(message, { messageHandler: { module: 'src/consumers.mjs', export: exportName, envelope } }, at)));

  it('delivers an SQS batch, one SQS record, an SNS event, a kafkajs eachMessage payload and the bare payload', async () => {
    expect(await deliver('onSqsBatch', 'sqs-batch')).toMatchObject({ outcome: 'returned', value: [{ id: 'm-7', body: message.payload, tenant: 'acme', source: 'aws:sqs' }] });
    expect(await deliver('onSqsRecord', 'sqs-record')).toMatchObject({ outcome: 'returned', value: { id: 'm-7', body: message.payload } });
    expect(await deliver('onSns', 'sns')).toMatchObject({ outcome: 'returned', value: { id: 'm-7', topic: 'arn:aws:sns:us-east-1:000000000000:orders', body: message.payload } });
    expect(await deliver('eachMessage', 'kafka')).toMatchObject({
      outcome: 'returned',
      value: { topic: 'orders', partition: 0, key: 'o-7', valueIsBuffer: true, value: message.payload, tenant: 'acme' },
    });
    expect(await deliver('onPayload', 'payload')).toMatchObject({ outcome: 'returned', value: { lines: 1 } });
  });
});

describe('a crash inside a dependency called from repository code', () => {
  const DEPENDENCY_MESSAGE = 'Invalid Version: next';

  /** The envelope ingest records for it: the dependency's frames are not in-app, the repository's are. */
  async function dependencyCrashEnvelope(entry: Entry): Promise<FailureEnvelope> {
    const base = await fixtureEnvelope('leaderboard');
    return {
      ...base,
      identity: { ...base.identity, service: 'orders' },
      entry,
      symptom: {
        errorType: 'TypeError',
        message: DEPENDENCY_MESSAGE,
        messageHash: createHash('sha256').update(DEPENDENCY_MESSAGE).digest('hex'),
        frames: [
          { file: 'node_modules/semver/classes/semver.js', line: 40, column: 13, function: 'new SemVer', inApp: false },
          { file: 'src/versions.mjs', line: 4, column: 10, function: 'parseRelease', inApp: true },
          { file: 'src/versions.mjs', line: 8, column: 19, function: 'releaseNotes', inApp: true },
        ],
      },
      downstream: [],
    };
  }

  it('reproduces a function entry whose throw comes from semver, with the repository frames as its signature', async () => {
    const envelope = await dependencyCrashEnvelope({ kind: 'function', module: 'src/versions.mjs', export: 'releaseNotes', args: [{ version: 'next', notes: 'x' }] });
    const reproduction = parseContract(
      Reproduction,
      await reproduce({ driver: testDriver, image: sandboxImageTag(), repoDir: service.repoDir, depsDir: service.depsDir, envelope, runs: 2, labels, logger: testLogger }),
      'Reproduction',
    );
    expect(reproduction).toMatchObject({ reproduced: true, matchingRuns: 2 });
    expect(reproduction.observed?.frames).toEqual([
      { function: 'parseRelease', file: 'src/versions.mjs' },
      { function: 'releaseNotes', file: 'src/versions.mjs' },
    ]);
  });

  it('reports the dependency throw behind an express 500 with the repository frames on top', async () => {
    const entry: HttpEntry = { kind: 'http', method: 'GET', route: '/releases/:version', path: '/releases/next', query: {}, headers: {} };
    const result = await harness.judge(job(entry, { module: 'src/express-app.mjs', export: 'createApp', args: DEPS_ARGS }));
    expect(result).toMatchObject({ outcome: 'http', httpStatus: 500, error: { type: 'TypeError', message: DEPENDENCY_MESSAGE } });
    if (result.outcome !== 'http') throw new Error('expected an http outcome');
    expect(result.error?.frames[0]?.file).toMatch(/^\/work\/node_modules\/semver\//);
    expect(result.error?.frames[0]?.inApp).toBe(false);
    expect(inAppFrames(result).slice(0, 3)).toEqual([
      { function: 'parseRelease', file: 'src/versions.mjs' },
      { function: 'releaseNotes', file: 'src/versions.mjs' },
      { function: 'release', file: 'src/express-app.mjs' },
    ]);
  });

  it('fails before starting a container, naming the catalog field, when no handler is known', async () => {
    const envelope = await dependencyCrashEnvelope({ kind: 'function', module: '', export: 'handler', args: [{}], trigger: 'pubsub' });
    await expect(reproduce({ driver: testDriver, image: sandboxImageTag(), repoDir: service.repoDir, envelope, labels, logger: testLogger })).rejects.toThrow(
      /services\.orders\.functionHandler/,
    );
  });
});
