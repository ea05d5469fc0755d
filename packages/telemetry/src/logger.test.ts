import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BLOCKED_LINE_MESSAGE, REDACTED, bindIncidentContext, blockedLine, createLogger, createTemporalLogger, type LineGuard } from './logger';

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

describe('createTemporalLogger and task tokens', () => {
  it('censors the activity task token the SDK logs', () => {
    const { stream, lines } = captureLines();
    createTemporalLogger(createLogger({ name: 'worker', destination: stream })).warn('Activity failed', { taskToken: 'CiQwMWEyNDEyZi0wZjMz', activityType: 'repair' });
    expect(lines()).toMatchObject([{ component: 'temporal', taskToken: REDACTED, activityType: 'repair', msg: 'Activity failed' }]);
  });
});

describe('createLogger with a line guard', () => {
  // A small guard for the unit: it blocks any line holding the word "forbidden" in `msg` or `detail.note`.
  const guard: LineGuard = (line) => {
    const parsed = JSON.parse(line) as { msg?: string; detail?: { note?: string } };
    const blocks = [];
    if (parsed.msg?.includes('forbidden')) blocks.push({ rule: 'word', path: '$.msg' });
    if (parsed.detail?.note?.includes('forbidden')) blocks.push({ rule: 'word', path: '$.detail.note' });
    return blocks;
  };

  it('writes a clean line unchanged, with or without the guard', () => {
    const guarded = captureLines();
    const plain = captureLines();
    createLogger({ name: 'worker', destination: guarded.stream, lineGuard: guard }).info({ n: 1 }, 'fine');
    createLogger({ name: 'worker', destination: plain.stream }).info({ n: 1 }, 'fine');
    const [withGuard] = guarded.lines();
    const [without] = plain.lines();
    expect({ ...withGuard, time: 0 }).toEqual({ ...without, time: 0 });
  });

  it('replaces a blocked line by an error line naming rule and path, keeping only clean context', () => {
    const { stream, lines } = captureLines();
    const logger = bindIncidentContext(createLogger({ name: 'worker', destination: stream, lineGuard: guard }), { incidentId: 'inc-1', stage: 'gate' });
    logger.info({ detail: { note: 'a forbidden value' } }, 'forbidden text here');
    logger.warn('still fine');
    const [blocked, next] = lines();
    expect(blocked).toMatchObject({
      level: 'error',
      name: 'worker',
      incidentId: 'inc-1',
      stage: 'gate',
      msg: BLOCKED_LINE_MESSAGE,
      rule: 'word',
      path: '$.msg',
      blocked: [
        { rule: 'word', path: '$.msg' },
        { rule: 'word', path: '$.detail.note' },
      ],
      blockedLevel: 'info',
    });
    expect(JSON.stringify(blocked)).not.toContain('forbidden value');
    expect(blocked).not.toHaveProperty('detail');
    expect(next).toMatchObject({ level: 'warn', msg: 'still fine' });
  });

  it('blocks every line when the guard fails', () => {
    const { stream, lines } = captureLines();
    const failing: LineGuard = () => {
      throw new Error('scanner unavailable');
    };
    createLogger({ name: 'worker', destination: stream, lineGuard: failing }).info('anything');
    expect(lines()).toMatchObject([{ level: 'error', rule: 'guard-failed', path: '$', msg: BLOCKED_LINE_MESSAGE }]);
  });

  it('leaves out a context field that holds a finding', () => {
    const line = JSON.stringify({ level: 'info', time: 't', name: 'worker', incidentId: 'x', msg: 'm' });
    const replacement = JSON.parse(blockedLine(line, [{ rule: 'email', path: '$.incidentId' }])) as Record<string, unknown>;
    expect(replacement).toEqual({
      level: 'error',
      time: 't',
      name: 'worker',
      msg: BLOCKED_LINE_MESSAGE,
      rule: 'email',
      path: '$.incidentId',
      blocked: [{ rule: 'email', path: '$.incidentId' }],
      blockedLevel: 'info',
    });
    expect(JSON.parse(blockedLine('not json', [{ rule: 'email', path: '$' }]))).toMatchObject({ level: 'error', rule: 'email', path: '$' });
  });
});
