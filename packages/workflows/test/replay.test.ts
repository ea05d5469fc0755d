import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';

const workflowsPath = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const historiesDir = new URL('./histories/', import.meta.url);

describe('committed workflow histories', () => {
  it('replay against the current workflow code without determinism errors', async () => {
    const files = (await readdir(historiesDir)).filter((name) => name.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const history: unknown = JSON.parse(await readFile(new URL(file, historiesDir), 'utf8'));
      // Throws DeterminismViolationError (or the workflow's own failure) when the code no longer fits the history.
      await expect(Worker.runReplayHistory({ workflowsPath }, history, `replay-${file}`)).resolves.toBeUndefined();
    }
  });

  it('detects a history that does not fit the code', async () => {
    const [file] = (await readdir(historiesDir)).filter((name) => name.endsWith('.json'));
    const history = JSON.parse(await readFile(new URL(file ?? '', historiesDir), 'utf8')) as { events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[] };
    const scheduled = history.events.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'triage');
    expect(scheduled).toBeDefined();
    // The recorded run scheduled `triage` where the code schedules it; renaming it must break the replay.
    scheduled!.activityTaskScheduledEventAttributes!.activityType!.name = 'triageRenamed';
    await expect(Worker.runReplayHistory({ workflowsPath }, history, 'replay-tampered')).rejects.toThrow();
  });
});
