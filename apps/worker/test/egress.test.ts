import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { fixtureAlertPaths } from '@tracemend/fixture-kit';
import { createEvidenceStore, parseAlert, traceIdsOf } from '@tracemend/ingest';
import { TracemendError } from '@tracemend/contracts';
import { createRawValueRegistry, rawValueHasher } from '@tracemend/privacy-gate';
import { BLOCKED_LINE_MESSAGE, bindIncidentContext, createTemporalLogger } from '@tracemend/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/env';
import { createWorkerLogger, guardStageActivities, workerOperationalValues } from '../src/egress';
import { buildStages } from '../src/stages';

const TOKEN_KEY = { id: 'k-test', secret: 'test-only-token-key-0123456789abcdef' };
const hashRawValue = rawValueHasher(TOKEN_KEY);
const contracts = fileURLToPath(new URL('../../../fixtures/contracts/', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracemend-log-guard-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A worker logger writing to a real file; `lines` ends the stream and reads back what reached the file. */
function fileLogger(name: string, rawValues = createRawValueRegistry({ hashOf: hashRawValue })) {
  const file = join(dir, `${name}.log`);
  const stream = createWriteStream(file);
  const logger = createWorkerLogger({ level: 'info', destination: stream, rawValues });
  const lines = async () => {
    stream.end();
    await finished(stream);
    const text = await readFile(file, 'utf8');
    return { text, parsed: text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Record<string, unknown>) };
  };
  return { logger, rawValues, lines };
}

describe('the worker logger', () => {
  it('writes `worker started` from an installation in a randomly named folder, which it names', async () => {
    // A fresh CI clone or a temporary folder: the random suffix alone reads as a secret to the detectors.
    const installRoot = join(dir, 'tracemend-ci-clone-46CGAO', 'tracemend');
    const fields = { address: '10.0.4.12:7233', bundle: join(installRoot, 'apps', 'worker', 'dist', 'workflow-bundle.js') };
    const rawValues = createRawValueRegistry({ hashOf: hashRawValue });
    const plain = fileLogger('plain-start', rawValues);
    plain.logger.info(fields, 'worker started');
    expect((await plain.lines()).parsed).toMatchObject([{ level: 'error', msg: BLOCKED_LINE_MESSAGE }]);

    const file = join(dir, 'operational-start.log');
    const stream = createWriteStream(file);
    const config = { temporalAddress: fields.address, stateDir: join(dir, 'state-k3Xq9Z'), installRoot };
    createWorkerLogger({ level: 'info', destination: stream, rawValues, operationalValues: workerOperationalValues(config) }).info(fields, 'worker started');
    stream.end();
    await finished(stream);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ msg: 'worker started', ...fields });
  });

  it('writes clean lines and replaces lines with personal data or secrets', async () => {
    const { logger, lines } = fileLogger('detectors');
    const log = bindIncidentContext(logger, { incidentId: 'inc-1', stage: 'repair' });
    log.info({ candidates: 3 }, 'proposed candidates');
    log.info({ reply: 'mail sent to jonas.berger@posteo.de' }, 'downstream answered');
    log.warn('retrying with key sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8');
    createTemporalLogger(logger).info('activity heartbeat from 81.224.17.5');
    // What the Temporal SDK writes when an activity fails: ids and an opaque task token, nothing to block.
    createTemporalLogger(logger).warn('Activity failed', {
      taskToken: 'CiQwMWEyNDEyZi0wZjMzLTc0NTItYWRmYi1hNjQzOWFhZjk5YmISKWluY2lkZW50LWUxNmM4OGI2OWU1NDQzNWE4YWE1NDM0MTM2MWFkZTY3',
      workflowId: 'incident-e16c88b69e54435a8aa54341361ade67',
      workflowRunId: '01a2412f-288b-7573-a7c0-c91a0096b237',
      error: { type: 'NO_CANDIDATES', nonRetryable: true },
    });
    const { text, parsed } = await lines();
    for (const value of ['jonas.berger@posteo.de', 'sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8', '81.224.17.5']) expect(text).not.toContain(value);
    expect(parsed).toMatchObject([
      { level: 'info', name: 'worker', incidentId: 'inc-1', stage: 'repair', candidates: 3, msg: 'proposed candidates' },
      { level: 'error', incidentId: 'inc-1', msg: BLOCKED_LINE_MESSAGE, rule: 'email', path: '$.reply', blockedLevel: 'info' },
      { level: 'error', msg: BLOCKED_LINE_MESSAGE, rule: 'stripe-key', path: '$.msg', blockedLevel: 'warn' },
      { level: 'error', component: 'temporal', msg: BLOCKED_LINE_MESSAGE, rule: 'ipv4', path: '$.msg' },
      { level: 'warn', component: 'temporal', msg: 'Activity failed', workflowId: 'incident-e16c88b69e54435a8aa54341361ade67', error: { type: 'NO_CANDIDATES' } },
    ]);
  });

  it('blocks a raw value the privacy gate removed, once the gate activity has run', async () => {
    const catalog = join(dir, 'tracemend.config.yaml');
    await writeFile(
      catalog,
      [
        'version: 1',
        'services:',
        '  users-api:',
        // Nothing is cloned: ingest finds no repository there and maps frames by the app roots.
        `    repository: { owner: acme, name: users-api, cloneUrl: ${JSON.stringify(join(dir, 'absent.git'))} }`,
        '    test: { runner: vitest, command: [npx, vitest, run] }',
        `    dataContract: ${join(contracts, 'users-api.yaml')}`,
        '',
      ].join('\n'),
    );
    const { logger, rawValues, lines } = fileLogger('gate');
    const stages = await buildStages({ ...loadWorkerConfig({}), tokenKey: TOKEN_KEY, stateDir: join(dir, 'state'), catalogFile: catalog }, logger, rawValues);
    const store = createEvidenceStore(join(dir, 'state', 'evidence'));
    const raw = await readFile(fixtureAlertPaths('users-api').traces);
    const alert = await store.putAlert({ bytes: raw, format: 'otlp-traces-json', traceIds: traceIdsOf(parseAlert(raw, 'otlp-traces-json')) });

    logger.info({ note: 'customer Mara Lindqvist' }, 'before the gate');
    const envelope = await stages.ingest!({ incidentId: 'inc-2', alert });
    const gated = await stages.gate!({ incidentId: 'inc-2', envelope });
    expect(rawValues.holds(gated.privacy.audit.recordHash)).toBe(true);
    expect(rawValues.has(hashRawValue('Mara Lindqvist'))).toBe(true);
    logger.info({ note: 'customer Mara Lindqvist' }, 'after the gate');
    logger.info({ note: 'customer Name a1b2c3' }, 'a token is fine');

    const { text, parsed } = await lines();
    const ours = parsed.filter((line) => line.note !== undefined || line.msg === BLOCKED_LINE_MESSAGE);
    // The name is no detector's: before the gate ran, nothing knew it.
    expect(ours[0]).toMatchObject({ msg: 'before the gate', note: 'customer Mara Lindqvist' });
    expect(ours[1]).toMatchObject({ level: 'error', msg: BLOCKED_LINE_MESSAGE, rule: 'known-raw-value', path: '$.note' });
    expect(ours[2]).toMatchObject({ msg: 'a token is fine' });
    expect(text.split('Mara Lindqvist')).toHaveLength(2);
  });

  it('learns the hashes of a gated envelope from the evidence store before a later stage runs', async () => {
    const store = createEvidenceStore(join(dir, 'learn'));
    const recordHash = hashRawValue('an audit record');
    await store.putRawValueHashes(recordHash, [hashRawValue('Kastanienallee 12')]);
    const { logger, rawValues, lines } = fileLogger('learn');
    const stages = guardStageActivities(rawValues, (key) => store.getRawValueHashes(key), {
      triage: (input: { gated: { privacy: { audit: { recordHash: string } } } }) => {
        logger.info(`shipping to Kastanienallee 12 for ${input.gated.privacy.audit.recordHash.slice(0, 8)}`);
        return Promise.resolve('done');
      },
    });
    await expect(stages.triage({ gated: { privacy: { audit: { recordHash } } } })).resolves.toBe('done');
    expect(rawValues.holds(recordHash)).toBe(true);
    const { text, parsed } = await lines();
    expect(text).not.toContain('Kastanienallee');
    expect(parsed).toMatchObject([{ level: 'error', rule: 'known-raw-value', path: '$.msg' }]);
  });

  it('takes what the guard would block out of a failure before Temporal records it, and keeps the rest readable', async () => {
    const rawValues = createRawValueRegistry({ hashOf: hashRawValue });
    rawValues.add(hashRawValue('the audit record'), [hashRawValue('Kastanienallee 12')]);
    const stages = guardStageActivities(rawValues, () => Promise.resolve([]), {
      reproduce: () => Promise.reject(new TracemendError('NOT_REPRODUCIBLE', 'replay threw: cannot ship to Kastanienallee 12', { details: { exitCode: 1 } })),
      minimize: () => Promise.reject(new Error('parse failed', { cause: new SyntaxError('Unexpected token in "ann@corp.io"') })),
      verify: () => Promise.reject(new TracemendError('SANDBOX_TIMEOUT', 'the suite timed out after 60 s')),
      triage: () => Promise.reject(new TracemendError('INVALID_INPUT', 'no catalog entry for service bearer notify-hub; add it to the catalog')),
    });
    const reproduce = await stages.reproduce().catch((error: unknown) => error);
    expect(reproduce).toBeInstanceOf(TracemendError);
    expect(reproduce).toMatchObject({ code: 'NOT_REPRODUCIBLE', message: 'replay threw: cannot ship to [withheld:known-raw-value]', details: { exitCode: 1 } });
    const minimize = await stages.minimize().catch((error: unknown) => error);
    expect(minimize).toMatchObject({ message: 'parse failed (minimize: the egress guard withheld this error\'s causes and details, email)' });
    expect((minimize as Error).cause).toBeUndefined();
    await expect(stages.verify()).rejects.toThrow('the suite timed out after 60 s');
    // A word of the reason that reads like a credential loses only what follows it, not the reason.
    const triage = await stages.triage().catch((error: unknown) => error);
    expect(triage).toMatchObject({ code: 'INVALID_INPUT', message: 'no catalog entry for service bearer [withheld:bearer]; add it to the catalog' });
  });
});
