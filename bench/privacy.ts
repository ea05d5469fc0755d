import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createEngine } from '@secretlint/node';
import { detect } from '@tracemend/privacy-gate';
import { buildCorpus, POSITIVE_TYPES, type CorpusSample } from '@tracemend/privacy-gate/testing/corpus';

const DETECT_SECRETS_PIN = '1.5.0';
const run = promisify(execFile);

/** Line indexes each scanner flagged, with the corpus type each finding maps to (`other` when it maps to none). */
interface ScanResult {
  name: string;
  covers: ReadonlySet<string>;
  findings: Map<number, Set<string>>;
  seconds: number;
  note?: string;
}

function add(findings: Map<number, Set<string>>, line: number, type: string): void {
  const set = findings.get(line) ?? new Set<string>();
  set.add(type);
  findings.set(line, set);
}

/**
 * CPU seconds (user + system) this process spends in `work`: on a shared machine, wall time also counts
 * the time other processes hold the core, and the table reports throughput on one core.
 */
async function cpuSeconds(work: () => unknown): Promise<number> {
  const started = process.cpuUsage();
  await work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1e6;
}

async function scanTracemend(samples: CorpusSample[]): Promise<ScanResult> {
  const rounds = 20;
  const findings = new Map<number, Set<string>>();
  for (const sample of samples) for (const match of detect(sample.text)) add(findings, sample.id, match.detector);
  // The pass above also warms up, as a long-running worker would be.
  const seconds =
    (await cpuSeconds(() => {
      for (let round = 0; round < rounds; round++) for (const sample of samples) detect(sample.text);
    })) / rounds;
  return { name: 'tracemend', covers: new Set(POSITIVE_TYPES), findings, seconds, note: `CPU time of this process, mean of ${rounds} passes after one warm-up pass` };
}

const SECRETLINT_TYPES: readonly [RegExp, string][] = [
  [/aws/, 'aws-access-key'],
  [/gcp/, 'gcp-service-account'],
  [/privatekey/, 'pem-private-key'],
  [/npm/, 'npm-token'],
  [/basicauth|database-connection/, 'url-credentials'],
  [/slack/, 'slack-token'],
  [/sendgrid/, 'sendgrid-key'],
  [/github/, 'github-token'],
];
const SECRETLINT_COVERS = new Set([
  'aws-access-key',
  'aws-secret-key',
  'gcp-service-account',
  'pem-private-key',
  'npm-token',
  'url-credentials',
  'slack-token',
  'slack-webhook',
  'sendgrid-key',
  'github-token',
]);

interface SecretlintMessage {
  ruleId: string;
  loc: { start: { line: number } };
}

async function scanSecretlint(samples: CorpusSample[]): Promise<ScanResult> {
  const engine = await createEngine({
    cwd: import.meta.dirname,
    formatter: 'json',
    color: false,
    maskSecrets: true,
    configFileJSON: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] },
  });
  const content = samples.map((sample) => sample.text).join('\n');
  let output = '';
  const seconds = await cpuSeconds(async () => {
    ({ output } = await engine.executeOnContent({ content, filePath: join(import.meta.dirname, 'corpus.jsonl') }));
  });
  const findings = new Map<number, Set<string>>();
  const results = JSON.parse(output) as { messages: SecretlintMessage[] }[];
  for (const result of results) {
    for (const message of result.messages) {
      const type = SECRETLINT_TYPES.find(([pattern]) => pattern.test(message.ruleId))?.[1] ?? 'other';
      // A rule in the preset that reports AWS secret keys or Slack webhooks still maps by its own rule id.
      add(findings, message.loc.start.line - 1, type);
    }
  }
  return { name: 'secretlint', covers: SECRETLINT_COVERS, findings, seconds, note: 'CPU time of this process, one pass' };
}

const DETECT_SECRETS_TYPES: Record<string, string> = {
  'AWS Access Key': 'aws-access-key',
  'Private Key': 'pem-private-key',
  'JSON Web Token': 'jwt',
  'Slack Token': 'slack-token',
  'Stripe Access Key': 'stripe-key',
  'GitHub Token': 'github-token',
  'SendGrid API Key': 'sendgrid-key',
  'Twilio API Key': 'twilio-key',
  'NPM tokens': 'npm-token',
  'Basic Auth Credentials': 'url-credentials',
  'Public IP (ipv4)': 'ipv4',
  'Base64 High Entropy String': 'high-entropy',
  'Hex High Entropy String': 'high-entropy',
};
const DETECT_SECRETS_COVERS = new Set([...Object.values(DETECT_SECRETS_TYPES), 'aws-secret-key', 'slack-webhook']);

async function detectSecretsCommand(): Promise<string[] | undefined> {
  for (const command of [['detect-secrets'], ['python3', '-m', 'detect_secrets']]) {
    try {
      await run(command[0] as string, [...command.slice(1), '--version']);
      return command;
    } catch {
      // try the next form
    }
  }
  return undefined;
}

async function scanDetectSecrets(samples: CorpusSample[]): Promise<ScanResult | string> {
  const command = await detectSecretsCommand();
  if (!command) return `detect-secrets not installed: run python3 -m pip install detect-secrets==${DETECT_SECRETS_PIN}`;
  const dir = await mkdtemp(join(tmpdir(), 'privacy-bench-'));
  try {
    const file = join(dir, 'corpus.jsonl');
    await writeFile(file, samples.map((sample) => sample.text).join('\n'));
    const started = process.hrtime.bigint();
    const { stdout } = await run(command[0] as string, [...command.slice(1), 'scan', file], {
      cwd: dir,
      maxBuffer: 256 * 1024 * 1024,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const report = JSON.parse(stdout) as { results: Record<string, { type: string; line_number: number }[]> };
    const findings = new Map<number, Set<string>>();
    for (const list of Object.values(report.results)) {
      for (const finding of list) add(findings, finding.line_number - 1, DETECT_SECRETS_TYPES[finding.type] ?? 'other');
    }
    return { name: 'detect-secrets', covers: DETECT_SECRETS_COVERS, findings, seconds, note: 'wall time of one process, start-up included' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const pct = (part: number, whole: number) => (whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`);

function printTable(samples: CorpusSample[], scans: ScanResult[]): void {
  const bytes = samples.reduce((sum, sample) => sum + Buffer.byteLength(sample.text) + 1, 0);
  const negatives = samples.filter((sample) => !sample.positive);
  const header = ['type', 'n', ...scans.flatMap((scan) => [`${scan.name} recall`, `${scan.name} precision`])];
  const rows: string[][] = [];
  for (const type of POSITIVE_TYPES) {
    const positives = samples.filter((sample) => sample.positive && sample.type === type);
    const row = [type, String(positives.length)];
    for (const scan of scans) {
      if (!scan.covers.has(type)) {
        row.push('n/a', 'n/a');
        continue;
      }
      const tp = positives.filter((sample) => scan.findings.has(sample.id)).length;
      const fp = negatives.filter((sample) => scan.findings.get(sample.id)?.has(type)).length;
      row.push(pct(tp, positives.length), pct(tp, tp + fp));
    }
    rows.push(row);
  }
  const allPositives = samples.filter((sample) => sample.positive);
  const total = ['all positives', String(allPositives.length)];
  const fpRow = ['FP rate on negatives', String(negatives.length)];
  const speed = ['MB/s (one core)', String((bytes / 1e6).toFixed(2)) + ' MB'];
  for (const scan of scans) {
    const covered = allPositives.filter((sample) => scan.covers.has(sample.type));
    total.push(pct(covered.filter((sample) => scan.findings.has(sample.id)).length, covered.length), '');
    fpRow.push(pct(negatives.filter((sample) => scan.findings.has(sample.id)).length, negatives.length), '');
    speed.push((bytes / 1e6 / scan.seconds).toFixed(2), '');
  }
  rows.push(total, fpRow, speed);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
  const missed = new Map<string, number>();
  for (const sample of negatives) {
    const found = scans[0]?.findings.get(sample.id);
    if (found) missed.set(`${sample.type} -> ${[...found].join(',')}`, (missed.get(`${sample.type} -> ${[...found].join(',')}`) ?? 0) + 1);
  }
  if (missed.size > 0) console.log(`tracemend false positives by negative kind: ${JSON.stringify(Object.fromEntries(missed))}`);
  for (const scan of scans) if (scan.note) console.log(`${scan.name}: ${scan.note}`);
}

/** Ways a value travels encoded in recorded telemetry; each puts a corpus value in a log line only decoding reveals. */
const PLACEMENTS: readonly [string, (value: string) => string][] = [
  ['base64 JSON body', (value) => JSON.stringify({ body: Buffer.from(JSON.stringify({ note: value, amount: 12.5 })).toString('base64'), isBase64Encoded: true })],
  ['query parameter', (value) => `GET /api/search?q=${encodeURIComponent(value)}&page=2 HTTP/1.1`],
  ['JSON escapes', (value) => `{"msg":"payload","payload":"${value.replace(/[@.:/+\-\n"]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)}"}`],
];

/**
 * The corpus values again, each placed encoded (`PLACEMENTS`): the share of positives still found and of
 * hard negatives flagged, per placement, for this scanner alone. The plain table above stays as it was.
 */
async function printEncodedTable(samples: CorpusSample[]): Promise<void> {
  const rows: string[][] = [];
  for (const [name, place] of PLACEMENTS) {
    const lines = samples.map((sample) => ({ positive: sample.positive, text: place(sample.text.slice(sample.contextStart, sample.end)) }));
    const flagged = lines.map((line) => detect(line.text).length > 0);
    const positives = lines.filter((line) => line.positive).length;
    const tp = lines.filter((line, i) => line.positive && flagged[i]).length;
    const fp = lines.filter((line, i) => !line.positive && flagged[i]).length;
    const bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line.text) + 1, 0);
    const rounds = 10;
    const seconds = (await cpuSeconds(() => {
      for (let round = 0; round < rounds; round++) for (const line of lines) detect(line.text);
    })) / rounds;
    rows.push([name, pct(tp, positives), pct(fp, lines.length - positives), (bytes / 1e6 / seconds).toFixed(2)]);
  }
  const header = ['encoded placement', 'tracemend recall', 'FP rate on negatives', 'MB/s (one core)'];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log('');
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
}

const samples = buildCorpus();
console.log(
  `corpus: ${samples.filter((sample) => sample.positive).length} positives over ${POSITIVE_TYPES.length} types, ${samples.filter((sample) => !sample.positive).length} hard negatives (seeded)`,
);
const scans: ScanResult[] = [await scanTracemend(samples), await scanSecretlint(samples)];
const detectSecrets = await scanDetectSecrets(samples);
if (typeof detectSecrets === 'string') console.log(detectSecrets);
else scans.push(detectSecrets);
printTable(samples, scans);
await printEncodedTable(samples);
