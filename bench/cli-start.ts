// Wall time from starting `tracemend <command>` to its exit, for commands an operator runs by hand
// and expects at once: usage, the gate over an envelope (key, audit record and all), its dry run and
// suggestion over a recorded alert, an evidence purge. Each command runs cold (a new Node process) several times; the table shows the median and
// the slowest run, side by side, so a change that makes one command load another's dependencies shows.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { exampleFailureEnvelope } from '@tracemend/contracts/examples';
import { fixtureCatalogYaml } from '@tracemend/fixture-kit';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'apps/cli/bin/tracemend.js');
const ALERT = join(ROOT, 'fixtures/corpus/incidents/orders-quote-pickup/alert.traces.json');
const RUNS = Number(process.argv.find((arg) => arg.startsWith('--runs='))?.slice('--runs='.length) ?? 7);

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { env, maxBuffer: 64 * 1024 * 1024 }, (error) => {
      // A usage answer exits 2 by design; anything else failing is a broken bench.
      if (error !== null && error.code !== 2) reject(new Error(`tracemend ${args.join(' ')} failed: ${error.message}`));
      else resolve(performance.now() - started);
    });
  });
}

const state = await mkdtemp(join(tmpdir(), 'tracemend-cli-start-'));
try {
  const catalog = join(state, 'tracemend.config.yaml');
  await writeFile(catalog, fixtureCatalogYaml({ 'users-api': '/absent/users-api.git', leaderboard: '/absent/leaderboard.git', 'checkout-worker': '/absent/checkout-worker.git' }));
  const envelope = join(state, 'envelope.json');
  await writeFile(envelope, JSON.stringify(exampleFailureEnvelope));
  const env = { ...process.env, TRACEMEND_STATE_DIR: join(state, 'state'), TRACEMEND_CONFIG: catalog };
  const commands: [string, string[]][] = [
    ['help', ['help']],
    ['gate <envelope>', ['gate', envelope]],
    ['gate --dry-run <alert>', ['gate', '--dry-run', ALERT, '--contract', join(ROOT, 'fixtures/corpus/incidents/orders-quote-pickup/contract.yaml')]],
    ['gate --suggest <alert>', ['gate', '--suggest', ALERT]],
    ['evidence purge', ['evidence', 'purge', '--older-than', '30d']],
  ];
  const rows: string[] = [];
  for (const [name, args] of commands) {
    await run(args, env); // warms the transpile cache, as any second start would find it
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await run(args, env));
    times.sort((a, b) => a - b);
    rows.push(`| ${name.padEnd(24)} | ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(2).padStart(8)} | ${(times.at(-1)! / 1000).toFixed(2).padStart(7)} |`);
  }
  console.log(`tracemend start-up, ${RUNS} cold runs each (Node ${process.versions.node}, TypeScript sources through tsx)\n`);
  console.log('| command                  | median s | slowest |');
  console.log('|--------------------------|----------|---------|');
  for (const row of rows) console.log(row);
} finally {
  await rm(state, { recursive: true, force: true });
}
