// What an operator sees: incidents run by the worker's real workflows, read back through the
// Temporal Web UI in headless Chromium (the list filtered by a search attribute, an incident's
// search attributes, and the per-stage table of a running incident).
import { randomUUID } from 'node:crypto';
import type { RepairPolicy, StageActivities } from '@tracemend/contracts';
import { exampleEnvelopeRef, exampleVerification } from '@tracemend/contracts/examples';
import { createLogger } from '@tracemend/telemetry';
import { eventually, startTemporalDevServer, type TemporalDevServer } from '@tracemend/testing';
import { rejectUpdate, statusQuery } from '@tracemend/workflows/client';
import { launchHeadlessChromium, type Browser, type Page } from '@tracemend/testing/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleStages, startIncident, startTestWorkers, type IncidentHandle, type RunningWorkers } from './running-workers';

/** Every incident of this file belongs to its own service, so the UI's lists hold only what it started. */
const service = `ui-${randomUUID().slice(0, 8)}`;

const stages: StageActivities = { ...exampleStages, ingest: () => Promise.resolve({ ...exampleEnvelopeRef, service }) };

let server: TemporalDevServer | undefined;
let running: RunningWorkers | undefined;
let browser: Browser | undefined;
let uiUrl = '';

beforeAll(async () => {
  server = await startTemporalDevServer({ ui: true });
  uiUrl = server.uiUrl ?? '';
  running = await startTestWorkers(stages, createLogger({ name: 'temporal-ui-test', level: 'warn' }), server.address);
  browser = await launchHeadlessChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
  await server?.stop();
});

function start(policy: Partial<RepairPolicy>): Promise<IncidentHandle> {
  if (!running) throw new Error('workers did not start');
  return startIncident(running.client, randomUUID().replace(/-/g, ''), policy);
}

async function openPage(path: string): Promise<Page> {
  if (!browser) throw new Error('chromium did not start');
  const page = await browser.newPage();
  await page.goto(`${uiUrl}${path}`);
  return page;
}

/** The text of a page and of every frame in it. */
async function allFramesText(page: Page): Promise<string> {
  const texts = await Promise.all(page.frames().map((frame) => frame.locator('body').innerText().catch(() => '')));
  return texts.join('\n');
}

/** The incident's page in the UI, on one of its tabs. */
async function incidentTab(handle: IncidentHandle, tab: 'search-attributes' | 'user-metadata'): Promise<Page> {
  const { runId } = await handle.describe();
  return openPage(`/namespaces/default/workflows/${handle.workflowId}/${runId}/${tab}`);
}

describe('the Temporal Web UI', () => {
  it('lists incidents filtered by a tracemend search attribute and shows their attributes', { timeout: 120_000 }, async () => {
    const done = await start({ review: 'never' });
    expect((await done.result()).outcome).toBe('pr-opened');

    // The list the README points operators to: workflows filtered by TracemendService.
    const list = await openPage(`/namespaces/default/workflows?query=${encodeURIComponent(`TracemendService="${service}"`)}`);
    const row = list.getByRole('row').filter({ hasText: done.workflowId });
    await row.waitFor({ timeout: 30_000 });
    expect(await row.innerText()).toMatch(/completed/i);
    expect(await row.innerText()).toContain('repairIncident');
    await list.close();

    const page = await incidentTab(done, 'search-attributes');
    const attributes = page.locator('main').getByText('"TracemendService"');
    await attributes.waitFor({ timeout: 30_000 });
    const text = await page.locator('main').innerText();
    expect(text).toContain(`"TracemendService": "${service}"`);
    expect(text).toContain('"TracemendErrorType": "TypeError"');
    expect(text).toContain('"TracemendStage": "done"');
    expect(text).toContain('"TracemendOutcome": "pr-opened"');
    expect(text).toContain(`"TracemendRisk": ${exampleVerification.risk?.score}`);
    await page.close();
  });

  it('shows a running incident waiting for review with its per-stage table', { timeout: 120_000 }, async () => {
    const waiting = await start({ review: 'always' });
    await eventually(async () => ((await waiting.query(statusQuery)).review?.state === 'waiting' ? true : undefined), 'the review gate');

    const list = await openPage(`/namespaces/default/workflows?query=${encodeURIComponent(`TracemendStage="review" AND TracemendService="${service}"`)}`);
    const row = list.getByRole('row').filter({ hasText: waiting.workflowId });
    await row.waitFor({ timeout: 30_000 });
    expect(await row.innerText()).toMatch(/running/i);
    await list.close();

    // The current details are the workflow's own markdown, answered by the running worker and
    // rendered by the UI in a frame of its own.
    const page = await incidentTab(waiting, 'user-metadata');
    const details = await eventually(async () => {
      const text = await allFramesText(page);
      return /\bverify\s+succeeded\b/.test(text) && /\breview\s+running\b/.test(text) ? text : undefined;
    }, 'the per-stage table in the current details');
    expect(details).toContain(service);
    expect(details).toContain('Waiting for review');
    for (const stage of ['ingest', 'privacy-gate', 'triage', 'reproduce', 'minimize', 'localize', 'repair', 'verify']) {
      expect(details).toMatch(new RegExp(`\\b${stage}\\s+succeeded\\s+\\d+ ms\\s+\\S`));
    }
    await page.close();

    await waiting.executeUpdate(rejectUpdate, { args: [{ reviewer: 'ana', reason: 'seen in the UI' }] });
    expect((await waiting.result()).outcome).toBe('rejected-by-operator');
  });
});
