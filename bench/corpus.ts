// The corpus yardstick: every recorded incident of fixtures/corpus sent unmodified through the whole
// local pipeline, one row each. Usage: pnpm --filter @tracemend/bench corpus [--json] [--timeout=<min>] [id…]
// A failing incident is a row with its reason; the bench itself only fails when the stack cannot start.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ServiceCatalog, type IncidentOutcome, type Localization, type MinimalRepro } from '@tracemend/contracts';
import { incidentPaths, loadIncident, readIncidentAlert, resolveIncidentIds, runCommand, withIncidentCopy, type Incident } from '@tracemend/corpus';
import { postAlert, startPipeline, type PipelineStack } from '@tracemend/e2e';
import { materializeRepo } from '@tracemend/fixture-kit';
import { startGitHubEmulator } from '@tracemend/github-emulator';
import { startTemporalDevServer } from '@tracemend/testing';
import { judgeFailure } from '@tracemend/verifier';
import { approveSignal, statusQuery } from '@tracemend/workflows/client';
import { stringify } from 'yaml';
import { lastActivityResult } from './history';

const run = promisify(execFile);
const OWNER = 'acme';
const GITHUB_TOKEN = 'corpus-github-token';

/** One incident's result. */
interface Row {
  id: string;
  outcome: string;
  stage: string;
  reason: string;
  seconds: number;
  reproduced: boolean;
  minimized: boolean;
  /** Rank (1-based) of the first suspect inside the buggy function, when localization ran. */
  suspectRank?: number;
  verifiedPr: boolean;
  /** The runner and path of the emitted regression test, when minimize succeeded. */
  runner?: string;
  testPath?: string;
  /** The emitted regression test run by the repository's own runner on the host; undefined when nothing was emitted. */
  emittedTest?: EmittedTestCheck;
  /** Whether the oracle passes on the PR's patch; undefined when no PR was opened. */
  oraclePasses?: boolean;
  oracleNote?: string;
}

interface Options {
  ids: string[];
  json: boolean;
  timeoutMs: number;
}

function parseArgs(argv: readonly string[]): Options {
  const ids: string[] = [];
  let json = false;
  let timeoutMs = 20 * 60_000;
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg.startsWith('--timeout=')) {
      const minutes = Number(arg.slice('--timeout='.length));
      if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`--timeout expects minutes per incident, e.g. --timeout=15; got ${arg}`);
      timeoutMs = minutes * 60_000;
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}; expected --json, --timeout=<minutes> or incident ids`);
    else ids.push(arg);
  }
  return { ids, json, timeoutMs };
}

/** The service repository of each incident on the emulator, tagged like the release, and the catalog naming them. */
async function publishIncidents(dir: string, incidents: readonly Incident[]) {
  const emulator = await startGitHubEmulator({ dataDir: join(dir, 'github'), token: GITHUB_TOKEN });
  const shas: Record<string, string> = {};
  const services: Record<string, unknown> = {};
  await mkdir(join(dir, 'contracts'), { recursive: true });
  for (const incident of incidents) {
    const repo = await materializeRepo(incidentPaths(incident.id).service, join(dir, 'repos', incident.id), {
      message: `${incident.service}: release ${incident.version}`,
      tag: incident.tag,
    });
    const created = await emulator.createRepository(OWNER, incident.service, { fromDir: repo.dir });
    await run('git', ['--git-dir', created.bareDir, 'tag', incident.tag, repo.sha]);
    shas[incident.id] = repo.sha;
    const contract = join('contracts', `${incident.service}.yaml`);
    await copyFile(incidentPaths(incident.id).contract, join(dir, contract));
    // deployRoot stays out: inferring it from the frames is part of what the corpus measures.
    services[incident.service] = {
      repository: { owner: OWNER, name: incident.service, cloneUrl: created.bareDir },
      dataContract: contract,
      ...incident.catalog,
    };
  }
  const catalog = ServiceCatalog.parse({ version: 1, services });
  const catalogFile = join(dir, 'tracemend.config.yaml');
  await writeFile(catalogFile, stringify(catalog));
  return { emulator, githubToken: GITHUB_TOKEN, catalogFile, shas };
}

/** Waits for the workflow's outcome, approving at the review gate as an operator would. */
async function awaitOutcome(stack: PipelineStack, workflowId: string, timeoutMs: number): Promise<IncidentOutcome> {
  const handle = stack.client.workflow.getHandle(workflowId);
  const deadline = Date.now() + timeoutMs;
  let approved = false;
  const result = handle.result() as Promise<IncidentOutcome>;
  for (;;) {
    const settled = await Promise.race([result.then((outcome) => ({ outcome })), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2_000))]);
    if (settled) return settled.outcome;
    if (Date.now() > deadline) {
      await handle.terminate('corpus bench timeout').catch(() => undefined);
      throw new Error(`no outcome within ${Math.round(timeoutMs / 60_000)} min`);
    }
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (!approved && status?.review?.state === 'waiting') {
      await handle.signal(approveSignal, { reviewer: 'corpus-bench', comment: 'approved by the corpus bench to score the PR' });
      approved = true;
    }
  }
}

function firstSentence(text: string, max = 90): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** Rank of the first suspect in the buggy file and function (1-based), or undefined. */
function buggyRank(localization: Localization | undefined, incident: Incident): number | undefined {
  const index = localization?.suspects.findIndex(
    (suspect) => suspect.file.replace(/^\.?\//, '') === incident.buggy.file && suspect.function === incident.buggy.function,
  );
  return index === undefined || index < 0 ? undefined : index + 1;
}

/** Applies the PR's change (base..head in the emulator's repository) to a copy of service/ and runs the oracle. */
async function oracleOnPr(incident: Incident, bareDir: string, baseSha: string, branch: string): Promise<{ passes: boolean; note: string }> {
  const { stdout: patch } = await run('git', ['--git-dir', bareDir, 'diff', '--binary', baseSha, `refs/heads/${branch}`], { maxBuffer: 16 * 1024 * 1024 });
  return withIncidentCopy(incident.id, async (copy) => {
    const applied = await copy.applyPatch(patch);
    if (!applied.ok) return { passes: false, note: `PR patch does not apply: ${firstSentence(applied.tail)}` };
    const oracle = await runCommand(incident.oracle, copy.serviceDir, copy.env);
    return { passes: oracle.ok, note: oracle.ok ? 'oracle passes' : `oracle fails: ${firstSentence(oracle.tail.split('\n').slice(-12).join(' '))}` };
  });
}

/** The emitted test as a reviewer would run it: its own command, in a plain checkout, no sandbox. */
interface EmittedTestCheck {
  /** It failed on the released commit with the recorded signature (type, message, top frame's file). */
  failsBefore: boolean;
  /** It passed once the incident's reference fix (fix.patch) was applied. */
  passesAfterFix: boolean;
  /** The repository's `typecheck` script with the test in place; undefined when it has none. */
  typechecks?: boolean;
  /** The repository's own prettier, `--check` on the emitted files; undefined when it does not use prettier. */
  formatted?: boolean;
  note: string;
}

/**
 * Writes the minimize stage's test and its support files into a copy of the released service, runs the
 * test's own command there (the repository's runner, on the host), judges the failure by signature, then
 * applies the reference fix and runs it again; a TypeScript service's typecheck script runs in between.
 */
async function checkEmittedTest(incident: Incident, minimal: MinimalRepro): Promise<EmittedTestCheck> {
  const fix = await readFile(incidentPaths(incident.id).fixPatch, 'utf8');
  return withIncidentCopy(incident.id, async (copy) => {
    const { testFile } = minimal;
    for (const file of [testFile, ...(testFile.support ?? [])]) {
      await mkdir(dirname(join(copy.serviceDir, file.path)), { recursive: true });
      await writeFile(join(copy.serviceDir, file.path), file.content);
    }
    const before = await runCommand(testFile.command, copy.serviceDir, copy.env);
    const judged = before.ok ? undefined : judgeFailure(before.output, minimal.signature);
    const failsBefore = judged?.matched === true;
    const notes = [before.ok ? 'passed on the released commit' : judged!.detail];
    const manifest = JSON.parse(await readFile(join(copy.serviceDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; devDependencies?: Record<string, string> };
    let typechecks: boolean | undefined;
    if (manifest.scripts?.typecheck !== undefined) {
      const tsc = await runCommand(['npm', 'run', '--silent', 'typecheck'], copy.serviceDir, copy.env);
      typechecks = tsc.ok;
      if (!tsc.ok) notes.push(`typecheck: ${firstSentence(tsc.tail.split('\n').filter((line) => /error TS\d+/.test(line)).join(' ') || tsc.tail)}`);
    }
    let formatted: boolean | undefined;
    if (manifest.devDependencies?.prettier !== undefined) {
      const prettier = await runCommand(['npx', 'prettier', '--check', ...[testFile, ...(testFile.support ?? [])].map((file) => file.path)], copy.serviceDir, copy.env);
      formatted = prettier.ok;
      if (!prettier.ok) notes.push(`prettier --check: ${firstSentence(prettier.tail)}`);
    }
    const checks = { ...(typechecks === undefined ? {} : { typechecks }), ...(formatted === undefined ? {} : { formatted }) };
    const applied = await copy.applyPatch(fix);
    if (!applied.ok) return { failsBefore, passesAfterFix: false, ...checks, note: [...notes, `fix.patch does not apply: ${firstSentence(applied.tail)}`].join('; ') };
    const after = await runCommand(testFile.command, copy.serviceDir, copy.env);
    if (!after.ok) notes.push(`after the fix: ${firstSentence(after.tail.split('\n').slice(-12).join(' '))}`);
    // The temporary copy's folder means nothing in a results file: paths read from the service root.
    const note = notes.join('; ').replaceAll(`${copy.serviceDir}/`, '');
    return { failsBefore, passesAfterFix: after.ok, ...checks, note };
  });
}

async function runIncident(stack: PipelineStack, incident: Incident, sha: string, timeoutMs: number): Promise<Row> {
  const started = performance.now();
  const row: Row = { id: incident.id, outcome: 'error', stage: '-', reason: '', seconds: 0, reproduced: false, minimized: false, verifiedPr: false };
  try {
    await readIncidentAlert(incident.id);
    const paths = incidentPaths(incident.id);
    const logs = await postAlert(stack, await readFile(paths.logs));
    if (logs.status >= 300) throw new Error(`gateway refused the logs (${logs.status}): ${JSON.stringify(logs.json)}`);
    const accepted = await postAlert(stack, await readFile(paths.traces));
    if (accepted.status >= 300 || typeof accepted.json.workflowId !== 'string') {
      row.outcome = 'refused';
      row.stage = 'gateway';
      row.reason = `gateway answered ${accepted.status}: ${JSON.stringify(accepted.json)}`;
      return row;
    }
    const outcome = await awaitOutcome(stack, accepted.json.workflowId, timeoutMs);
    const history = await stack.client.workflow.getHandle(accepted.json.workflowId).fetchHistory();
    const ran = outcome.stages.filter((stage) => stage.status !== 'skipped');
    const last = ran.at(-1);
    row.outcome = outcome.outcome;
    row.stage = last ? `${last.stage}${last.status === 'failed' ? ' (failed)' : ''}` : '-';
    row.reason = outcome.reason;
    row.reproduced = (lastActivityResult(history, 'reproduce') as { reproduced?: boolean } | undefined)?.reproduced === true;
    row.minimized = outcome.stages.some((stage) => stage.stage === 'minimize' && stage.status === 'succeeded');
    const minimal = lastActivityResult(history, 'minimize') as MinimalRepro | undefined;
    if (row.minimized && minimal !== undefined) {
      row.runner = minimal.testFile.runner;
      row.testPath = minimal.testFile.path;
      row.emittedTest = await checkEmittedTest(incident, minimal).catch((error: unknown) => ({
        failsBefore: false,
        passesAfterFix: false,
        note: `could not run the emitted test: ${error instanceof Error ? error.message : String(error)}`,
      }));
    }
    row.suspectRank = buggyRank(lastActivityResult(history, 'localize') as Localization | undefined, incident);
    row.verifiedPr = outcome.outcome === 'pr-opened' && outcome.pr !== undefined;
    if (outcome.pr) {
      const oracle = await oracleOnPr(incident, stack.emulator.repoDir(OWNER, incident.service), sha, outcome.pr.branch);
      row.oraclePasses = oracle.passes;
      row.oracleNote = oracle.note;
    }
  } catch (error) {
    row.reason = error instanceof Error ? error.message : String(error);
  } finally {
    row.seconds = Math.round((performance.now() - started) / 100) / 10;
  }
  return row;
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => escape(row[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, i) => escape(cell).padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function report(rows: readonly Row[]): string {
  const table = markdownTable(
    ['incident', 'outcome', 'stage reached', 'reason', 's'],
    rows.map((row) => [row.id, row.outcome, row.stage, firstSentence(row.reason), row.seconds.toFixed(1)]),
  );
  const yesNo = (value: boolean | undefined) => (value === undefined ? '-' : value ? 'yes' : 'no');
  const tests = markdownTable(
    ['incident', 'runner', 'test', 'fails before (signature)', 'typechecks', 'formatted', 'passes after fix.patch', 'note'],
    rows.map((row) => [
      row.id,
      row.runner ?? '-',
      row.testPath ?? '-',
      yesNo(row.emittedTest?.failsBefore),
      yesNo(row.emittedTest?.typechecks),
      yesNo(row.emittedTest?.formatted),
      yesNo(row.emittedTest?.passesAfterFix),
      firstSentence(row.emittedTest?.note ?? '', 120),
    ]),
  );
  const count = (predicate: (row: Row) => boolean) => `${rows.filter(predicate).length}/${rows.length}`;
  const totals = markdownTable(
    ['reproduced', 'minimized', 'test fails before', 'test passes after fix', 'localized @1', 'localized @5', 'verified PR', 'oracle passes on PR'],
    [
      [
        count((row) => row.reproduced),
        count((row) => row.minimized),
        count((row) => row.emittedTest?.failsBefore === true),
        count((row) => row.emittedTest?.passesAfterFix === true),
        count((row) => row.suspectRank === 1),
        count((row) => row.suspectRank !== undefined && row.suspectRank <= 5),
        count((row) => row.verifiedPr),
        count((row) => row.oraclePasses === true),
      ],
    ],
  );
  return `${table}\n\n${tests}\n\n${totals}\n`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const ids = await resolveIncidentIds(options.ids);
  const incidents: Incident[] = [];
  for (const id of ids) incidents.push(await loadIncident(id));
  const server = await startTemporalDevServer();
  let shas: Record<string, string> = {};
  const stack = await startPipeline(server.address, async (dir) => {
    const published = await publishIncidents(dir, incidents);
    shas = published.shas;
    return published;
  });
  const rows: Row[] = [];
  try {
    for (const incident of incidents) {
      const row = await runIncident(stack, incident, shas[incident.id] ?? '', options.timeoutMs);
      if (!options.json) console.error(`${row.id}: ${row.outcome} after ${row.seconds}s`);
      rows.push(row);
    }
  } finally {
    await stack.close();
    await server.stop();
  }
  const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(resultsDir, { recursive: true });
  const resultsFile = join(resultsDir, `corpus-${new Date().toISOString().slice(0, 10)}.json`);
  await writeFile(resultsFile, `${JSON.stringify(rows, null, 2)}\n`);
  if (options.json) console.log(JSON.stringify(rows, null, 2));
  else console.log(report(rows));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
