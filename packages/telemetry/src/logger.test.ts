import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REDACTED, bindIncidentContext, createLogger, createTemporalLogger } from './logger';

function captureLines(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes JSON with the level as a label and the component name', () => {
    const { stream, lines } = captureLines();
    createLogger({ name: 'ingest', destination: stream }).info({ alerts: 2 }, 'parsed');
    const [line] = lines();
    expect(line).toMatchObject({ level: 'info', name: 'ingest', alerts: 2, msg: 'parsed' });
    expect(typeof line?.time).toBe('string');
  });

  it('censors credentials, bodies and payloads by path', () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ name: 'gateway', destination: stream, redact: ['user.email'] });
    logger.info(
      {
        headers: { authorization: 'Bearer abc.def', accept: 'json' },
        request: { body: { email: 'ana@example.com' }, password: 'hunter2' },
        user: { email: 'ana@example.com', id: 'u1' },
      },
      'request',
    );
    const [line] = lines();
    const text = JSON.stringify(line);
    expect(text).not.toContain('abc.def');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('ana@example.com');
    expect(line).toMatchObject({
      headers: { authorization: REDACTED, accept: 'json' },
      request: { body: REDACTED, password: REDACTED },
      user: { email: REDACTED, id: 'u1' },
    });
  });
});

describe('bindIncidentContext', () => {
  it('binds the incident ids and leaves absent ones out', () => {
    const { stream, lines } = captureLines();
    const logger = createLogger({ name: 'worker', destination: stream });
    bindIncidentContext(logger, { incidentId: 'inc-1', stage: 'reproduce' }).warn('slow');
    const [line] = lines();
    expect(line).toMatchObject({ incidentId: 'inc-1', stage: 'reproduce', msg: 'slow' });
    expect(line).not.toHaveProperty('fingerprint');
    expect(line).not.toHaveProperty('workflowId');
  });
});

describe('createTemporalLogger', () => {
  it('routes each Temporal level to the matching pino level with its metadata', () => {
    const { stream, lines } = captureLines();
    const temporal = createTemporalLogger(createLogger({ name: 'worker', level: 'trace', destination: stream }));
    temporal.trace('t');
    temporal.debug('d');
    temporal.info('i', { taskQueue: 'ingest' });
    temporal.warn('w');
    temporal.error('e', { workflowId: 'wf-1' });
    temporal.log('WARN', 'via log');
    expect(lines().map((line) => [line.level, line.msg, line.component])).toEqual([
      ['trace', 't', 'temporal'],
      ['debug', 'd', 'temporal'],
      ['info', 'i', 'temporal'],
      ['warn', 'w', 'temporal'],
      ['error', 'e', 'temporal'],
      ['warn', 'via log', 'temporal'],
    ]);
    expect(lines()[2]).toMatchObject({ taskQueue: 'ingest' });
    expect(lines()[4]).toMatchObject({ workflowId: 'wf-1' });
  });

  it('drops lines below the configured level', () => {
    const { stream, lines } = captureLines();
    const temporal = createTemporalLogger(createLogger({ name: 'worker', level: 'warn', destination: stream }));
    temporal.info('quiet');
    temporal.error('loud');
    expect(lines().map((line) => line.msg)).toEqual(['loud']);
  });
});
