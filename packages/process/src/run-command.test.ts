import { readFile } from 'node:fs/promises';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { describeExit, endStream, runCommand } from './run-command';

describe('runCommand', () => {
  it('writes the input, collects both outputs and reports the exit code', async () => {
    const result = await runCommand('sh', ['-c', 'tr a-z A-Z; echo oops >&2; exit 3'], { input: 'hello' });
    expect(result.code).toBe(3);
    expect(result.stdout.toString()).toBe('HELLO');
    expect(result.stderr.toString()).toBe('oops\n');
    expect(result.timedOut).toBe(false);
    expect(result.inputError).toBeUndefined();
  });

  it('turns a child that exits before reading its input into a result, not an uncaught EPIPE', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      // 8 MiB is far more than a pipe buffers: the write is still going when the child is gone.
      const result = await runCommand('sh', ['-c', 'exec 0<&-; exit 0'], { input: Buffer.alloc(8 * 1024 * 1024, 120) });
      expect(result.code).toBe(0);
      expect(result.inputError).toMatch(/EPIPE|closed/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('reports no input error for a child that exits at once when there was nothing to write', async () => {
    for (let run = 0; run < 20; run++) {
      const result = await runCommand('true', []);
      expect(result).toMatchObject({ code: 0 });
      expect(result.inputError).toBeUndefined();
    }
  });

  it('kills a child at its time limit and says so', async () => {
    const started = Date.now();
    const result = await runCommand('sleep', ['10'], { timeoutMs: 200 });
    expect(result.timedOut).toBe(true);
    expect(result.code).toBeNull();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(describeExit('sleep', result, 200)).toBe('sleep was killed after 200 ms');
  });

  it('kills the whole process group when asked, so helpers do not outlive the leader', async () => {
    const result = await runCommand('sh', ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300, processGroup: true });
    expect(result.timedOut).toBe(true);
    const helper = Number(result.stdout.toString().trim());
    expect(helper).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Gone, or a zombie waiting for a parent that does not reap (PID 1 in a container).
    const state = await readFile(`/proc/${helper}/stat`, 'utf8').then((stat) => stat.split(') ')[1]?.[0], () => 'gone');
    expect(['gone', 'Z']).toContain(state);
  });

  it('rejects when the program does not exist, and on abort with the reason', async () => {
    await expect(runCommand('tracemend-no-such-binary', [])).rejects.toMatchObject({ code: 'ENOENT' });
    const controller = new AbortController();
    const running = runCommand('sleep', ['10'], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('incident cancelled')), 50);
    await expect(running).rejects.toThrow('incident cancelled');
  });

  it('keeps the end of an output longer than its limit', async () => {
    const result = await runCommand('sh', ['-c', 'seq 1 100000'], { outputLimitBytes: 64 });
    const text = result.stdout.toString();
    expect(text.length).toBeLessThanOrEqual(64);
    expect(text.endsWith('99999\n100000\n')).toBe(true);
  });

  it('passes exactly the given environment', async () => {
    const result = await runCommand('sh', ['-c', 'echo "$ONLY:$HOME"'], { env: { PATH: process.env.PATH, ONLY: 'this' } });
    expect(result.stdout.toString()).toBe('this:\n');
  });
});

describe('endStream', () => {
  it('resolves with the error of a stream whose reader went away', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    await expect(endStream(broken, 'data')).resolves.toBe('EPIPE: write EPIPE');
    // A later error finds a listener.
    broken.emit('error', new Error('again'));
  });

  it('resolves undefined once the data is written', async () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => chunks.push(chunk));
    await expect(endStream(sink, 'all of it')).resolves.toBeUndefined();
    expect(Buffer.concat(chunks).toString()).toBe('all of it');
  });

  it('says so when the stream was destroyed before anything was written', async () => {
    const sink = new PassThrough();
    sink.destroy();
    await expect(endStream(sink, 'late')).resolves.toMatch(/closed before the input was written/);
  });
});
