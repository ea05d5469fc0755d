// An error that escapes one activity fails that activity; the worker process keeps serving.
import { spawn, type ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { createLogger } from '@tracemend/telemetry';
import { eventually } from '@tracemend/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ActivityCrashedError, createCrashGuard } from '../src/crash-guard';
import { startIncident } from './running-workers';

describe('createCrashGuard', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'crash-guard-test', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });

  it('fails the activity an escaped error belongs to and leaves the others running', async () => {
    const guard = createCrashGuard(logger);
    let finishOther: (value: string) => void = () => undefined;
    const other = guard.run('gate', logger.child({ incidentId: 'inc-other' }), () => new Promise<string>((resolve) => (finishOther = resolve)));
    const crashing = guard.run('ingest', logger.child({ incidentId: 'inc-crash' }), () => {
      // The error escapes from a callback of this activity's own async context, as a stream error would;
      // the process handler calls handle() there.
      setTimeout(() => guard.handle(new Error('write EPIPE'), 'uncaughtException'), 10);
      return new Promise(() => undefined);
    });
    const failure = await crashing.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ActivityCrashedError);
    expect((failure as Error).message).toBe('the ingest activity crashed (uncaughtException: write EPIPE); the worker failed this activity and kept serving');
    finishOther('gated');
    await expect(other).resolves.toBe('gated');
    expect(lines.find((line) => line.msg === 'an error escaped the activity; failing it, the worker keeps serving')).toMatchObject({ incidentId: 'inc-crash', kind: 'uncaughtException' });
  });

  it('logs an error that belongs to no activity', () => {
    createCrashGuard(logger).handle(new Error('stray'), 'unhandledRejection');
    expect(lines.find((line) => line.msg === 'an error escaped outside any activity; the worker keeps serving')).toMatchObject({ kind: 'unhandledRejection' });
  });
});

describe('a worker process whose activity crashes mid-write', () => {
  let child: ChildProcess;
  let client: Client;
  let connection: Connection;
  let output = '';

  beforeAll(async () => {
    const address = inject('temporalAddress');
    child = spawn(process.execPath, ['--import', 'tsx', 'test/crashing-worker.ts', address], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => Promise.resolve(output.includes('crashing worker ready') ? true : child.exitCode !== null ? Promise.reject(new Error(`the worker exited: ${output}`)) : undefined), 'the crashing worker to start', 120_000);
    connection = await Connection.connect({ address });
    client = new Client({ connection });
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await connection?.close();
  });

  it('records the crash as the activity failure, retries it, and keeps serving other incidents', async () => {
    const first = await startIncident(client, 'crash-guard-1', {});
    const second = await startIncident(client, 'crash-guard-2', {});
    await expect(first.result()).resolves.toMatchObject({ outcome: 'pr-opened' });
    await expect(second.result()).resolves.toMatchObject({ outcome: 'pr-opened' });
    expect(child.exitCode).toBeNull();
    const crashes = output
      .split('\n')
      .filter((line) => line.includes('an error escaped the activity'))
      .map((line) => JSON.parse(line) as { incidentId?: string; kind?: string; err?: { message?: string } });
    expect(crashes.map((line) => line.incidentId).sort()).toEqual(['crash-guard-1', 'crash-guard-2']);
    expect(crashes.every((line) => line.kind === 'uncaughtException' && /EPIPE/.test(line.err?.message ?? ''))).toBe(true);
    // The retry that succeeded carries the crash as its last failure in the workflow history.
    const history = await first.fetchHistory();
    const started = history.events?.find((event) => event.activityTaskStartedEventAttributes?.attempt === 2);
    expect(started?.activityTaskStartedEventAttributes?.lastFailure?.message).toMatch(/the ingest activity crashed \(uncaughtException: write EPIPE\)/);
  });
});
