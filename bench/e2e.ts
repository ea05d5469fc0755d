// Alert-to-PR wall time per fixture incident, with the per-stage breakdown and the number of sandbox
// runs ddmin needed. Usage: pnpm --filter @tracemend/bench e2e [rounds]
// Each round sends the three recorded alerts through the whole local pipeline; the first round pays
// for dependency installs and checkouts, later ones show the warm cost.
import { readFile } from 'node:fs/promises';
import type { IncidentOutcome, MinimalRepro } from '@tracemend/contracts';
import { postAlert, startStack } from '@tracemend/e2e';
import { fixtureAlertPaths, fixtureServiceNames } from '@tracemend/fixture-kit';
import { startTemporalDevServer } from '@tracemend/testing';
import { lastActivityResult } from './history';

const STAGES = ['ingest', 'privacy-gate', 'triage', 'reproduce', 'minimize', 'localize', 'repair', 'verify', 'pr'] as const;

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? '2');
  const server = await startTemporalDevServer();
  const stack = await startStack(server.address);
  const rows: string[][] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const service of fixtureServiceNames) {
        const paths = fixtureAlertPaths(service);
        await postAlert(stack, await readFile(paths.logs));
        const started = performance.now();
        const accepted = await postAlert(stack, await readFile(paths.traces));
        const handle = stack.client.workflow.getHandle(String(accepted.json.workflowId));
        const outcome = (await handle.result()) as IncidentOutcome;
        const wall = performance.now() - started;
        const minimal = lastActivityResult(await handle.fetchHistory(), 'minimize') as MinimalRepro | undefined;
        const byStage = new Map(outcome.stages.map((stage) => [stage.stage, Math.round(stage.durationMs ?? 0)]));
        rows.push([
          String(round),
          service,
          outcome.outcome,
          (wall / 1000).toFixed(1),
          ...STAGES.map((stage) => String(byStage.get(stage) ?? '-')),
          String(minimal?.testsRun ?? '-'),
          String(minimal?.cacheHits ?? '-'),
        ]);
      }
    }
  } finally {
    await stack.close();
    await server.stop();
  }
  const header = ['round', 'incident', 'outcome', 'alert→PR s', ...STAGES.map((s) => `${s} ms`), 'ddmin runs', 'cache hits'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
