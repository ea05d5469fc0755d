import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectRepository, type EntryCandidate } from '../src/inspect';

let root: string;

async function repo(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

function summary(entries: readonly EntryCandidate[]): string[] {
  return entries.map((entry) => `${entry.kind} ${entry.module}#${entry.export} ${entry.event ?? entry.envelope ?? ''}`.trim());
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tracemend-inspect-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('inspectRepository', () => {
  it('reads the runner, suite command, package manager and Node version as triage and the sandbox do', async () => {
    const dir = await repo('facts', {
      'package.json': JSON.stringify({ name: '@acme/Orders', devDependencies: { vitest: '^4.1.0' }, engines: { node: '>=20.11' } }),
      '.nvmrc': 'v20.11.1\n',
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    });
    const inspection = await inspectRepository(dir);
    expect(inspection.runner).toEqual({ runner: 'vitest', evidence: "vitest among package.json's dependencies" });
    expect(inspection.testSetup).toEqual({ runner: 'vitest', command: ['npx', 'vitest', 'run'], detectedFrom: "vitest among package.json's dependencies; suite: npx vitest run" });
    expect(inspection.packageManager).toEqual({ plan: { manager: 'pnpm', lockfile: 'pnpm-lock.yaml', version: '9' }, evidence: 'pnpm-lock.yaml in the repository root' });
    // .nvmrc decides over engines.node, as it does for the sandbox.
    expect(inspection.node).toEqual({ file: '.nvmrc', value: 'v20.11.1', range: '20.11.1' });
    expect(inspection.entries).toEqual([]);
  });

  it('takes npm test for a plain test script, ava included, and names a repository with no runner as a problem', async () => {
    const plain = await inspectRepository(await repo('script', { 'package.json': JSON.stringify({ scripts: { test: 'node --test test/' } }), 'package-lock.json': '{}' }));
    expect(plain.testSetup).toMatchObject({ runner: 'node:test', command: ['npm', 'test'] });
    expect(plain.packageManager).toMatchObject({ plan: { manager: 'npm', lockfile: 'package-lock.json' } });
    const ava = await inspectRepository(await repo('ava', { 'package.json': JSON.stringify({ scripts: { test: 'ava --verbose' } }) }));
    expect(ava.runner?.runner).toBe('ava');
    expect(ava.testSetup).toMatchObject({ runner: 'ava', command: ['npm', 'test'] });
    const none = await inspectRepository(await repo('no-runner', { 'package.json': JSON.stringify({ scripts: { start: 'node server.js' } }) }));
    expect(none.testSetup).toEqual({ problem: expect.stringMatching(/^no test runner found in this repository: .*set test\.runner/) as unknown });
  });

  it('reports a Node version it cannot read as a problem', async () => {
    const inspection = await inspectRepository(await repo('node', { 'package.json': '{}', '.nvmrc': 'erbium-ish\n' }));
    expect(inspection.node).toEqual({ problem: expect.stringMatching(/^\.nvmrc says "erbium-ish", which is not a Node version: write /) as unknown });
  });

  it('reports a package manager it cannot use as a problem, not a failure', async () => {
    const dir = await repo('bun', { 'package.json': JSON.stringify({ packageManager: 'bun@1.1.0', scripts: { test: 'jest' } }) });
    const inspection = await inspectRepository(dir);
    expect(inspection.packageManager).toEqual({
      problem: 'package.json "packageManager" is "bun@1.1.0": supported are npm, pnpm or yarn, as name@x.y.z (for example pnpm@9.12.0 or yarn@4.5.0)',
    });
    expect(inspection.runner?.runner).toBe('jest');
  });

  it('finds HTTP apps of express, fastify, koa and node:http, factories ranked above instances', async () => {
    const dir = await repo('http', {
      'package.json': '{}',
      'src/app.ts': "import Fastify from 'fastify';\nexport function buildApp(options: { logger: boolean }) {\n  const app = Fastify(options);\n  return app;\n}\n",
      'src/instance.js': "const express = require('express');\nconst app = express();\nmodule.exports = { app };\n",
      'src/koa.mjs': "import Koa from 'koa';\nexport const makeServer = () => new Koa();\n",
      'src/plain.js': "import { createServer } from 'node:http';\nexport function start(port) {\n  return createServer((req, res) => res.end('ok')).listen(port);\n}\nexport function helper(a, b) { return a + b; }\n",
      'test/app.test.ts': "import { buildApp } from '../src/app';\nbuildApp({ logger: false });\n",
    });
    const inspection = await inspectRepository(dir);
    expect(summary(inspection.entries)).toEqual(['http src/app.ts#buildApp', 'http src/koa.mjs#makeServer', 'http src/plain.js#start', 'http src/instance.js#app']);
    const [best] = inspection.entries;
    expect(best?.evidence).toEqual([
      { file: 'src/app.ts', line: 2, reason: 'exported function buildApp builds an app with fastify' },
      { file: 'src/app.ts', line: 3, reason: 'the fastify app is created here' },
    ]);
    expect(best?.args).toBeUndefined();
  });

  it('finds the arguments a factory is called with in the tests', async () => {
    const dir = await repo('listener', {
      'package.json': '{}',
      'src/listener.js': 'export function createListener(deps) {\n  return async (req, res) => {\n    res.end(deps.greeting);\n  };\n}\n',
      'src/deps.js': "export function createDefaultDeps() { return { greeting: 'hi' }; }\n",
      'test/helpers.js': "export function createTestDeps() { return { greeting: 'test' }; }\n",
      'test/listener.test.js': "import { createListener } from '../src/listener.js';\nimport { createTestDeps } from './helpers.js';\nconst deps = createTestDeps();\ncreateListener(deps);\n",
    });
    const [entry, ...rest] = (await inspectRepository(dir)).entries;
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ kind: 'http', module: 'src/listener.js', export: 'createListener', args: { module: 'test/helpers.js', export: 'createTestDeps' } });
    expect(entry?.evidence.at(-1)).toEqual({ file: 'test/listener.test.js', line: 4, reason: 'called as createListener(createTestDeps(…)) here' });
  });

  it('reads Lambda handlers from serverless.yml, an SQS function as a batch consumer', async () => {
    const dir = await repo('serverless', {
      'package.json': '{}',
      'serverless.yml': [
        'service: payouts',
        'functions:',
        '  settle:',
        '    handler: dist/settle.main',
        '    events:',
        '      - sqs: { arn: arn:aws:sqs:eu-west-1:000000000000:payouts }',
        '  report:',
        '    handler: src/report.handler',
        '    events:',
        '      - httpApi: { method: GET, path: /report }',
        '',
      ].join('\n'),
      'src/settle.ts': 'export async function main(event: unknown) { return event; }\n',
      'src/report.js': 'exports.handler = async (event) => ({ statusCode: 200 });\n',
    });
    const entries = (await inspectRepository(dir)).entries;
    expect(summary(entries)).toEqual(['function src/report.js#handler api-gateway-v2', 'message src/settle.ts#main sqs-batch']);
    expect(entries[0]?.evidence[0]).toEqual({ file: 'serverless.yml', line: 8, reason: 'serverless function report: handler src/report.handler, httpApi event' });
    expect(entries[0]?.score).toBe(100);
  });

  it('reads AWS::Serverless::Function resources of a SAM template, intrinsics and Globals included', async () => {
    const dir = await repo('sam', {
      'package.json': '{}',
      'template.yaml': [
        "AWSTemplateFormatVersion: '2010-09-09'",
        'Transform: AWS::Serverless-2016-10-31',
        'Globals:',
        '  Function:',
        '    CodeUri: functions/',
        'Resources:',
        '  Table:',
        '    Type: AWS::DynamoDB::Table',
        '  Orders:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      Handler: orders.lambdaHandler',
        '      Environment:',
        '        Variables: { TABLE: !Ref Table }',
        '      Events:',
        '        Get: { Type: Api, Properties: { Path: /orders, Method: get } }',
        '',
      ].join('\n'),
      'functions/orders.mjs': 'export const lambdaHandler = async (event, context) => ({ statusCode: 200 });\n',
    });
    const [entry] = (await inspectRepository(dir)).entries;
    expect(entry).toMatchObject({ kind: 'function', module: 'functions/orders.mjs', export: 'lambdaHandler', event: 'api-gateway-v1', score: 100 });
    expect(entry?.evidence[0]).toEqual({ file: 'template.yaml', line: 12, reason: 'SAM function Orders: Handler orders.lambdaHandler, CodeUri functions/, Api event' });
  });

  it('reads CDK NodejsFunction entries and lambda.Function handlers', async () => {
    const dir = await repo('cdk', {
      'package.json': '{}',
      'lib/stack.ts': [
        "import * as path from 'node:path';",
        "import * as lambda from 'aws-cdk-lib/aws-lambda';",
        "import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';",
        'export function build(scope: never) {',
        "  new NodejsFunction(scope, 'Quote', { entry: path.join(__dirname, '../lambda/quote.ts'), handler: 'quote' });",
        "  new lambda.Function(scope, 'Legacy', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.handler', code: lambda.Code.fromAsset('legacy') });",
        '}',
        '',
      ].join('\n'),
      'lambda/quote.ts': 'export async function quote(event: unknown) { return event; }\n',
      'legacy/index.js': 'exports.handler = async (event, context) => null;\n',
    });
    const entries = (await inspectRepository(dir)).entries;
    expect(summary(entries.filter((entry) => entry.score === 100))).toEqual(['function lambda/quote.ts#quote auto', 'function legacy/index.js#handler auto']);
    expect(entries[0]?.evidence[0]).toEqual({ file: 'lib/stack.ts', line: 5, reason: 'CDK new NodejsFunction(…) entry ../lambda/quote.ts handler quote' });
  });

  it('finds queue consumers by the library the module imports, ready handlers above their factories', async () => {
    const dir = await repo('queues', {
      'package.json': '{}',
      'src/worker.ts': [
        "import { Worker, type Job } from 'bullmq';",
        'export async function processInvoice(job: Job) { return job.data; }',
        "export function startWorker() { return new Worker('invoices', processInvoice); }",
        '',
      ].join('\n'),
      'src/consumer.js': [
        "const amqp = require('amqplib');",
        'function createConsumer(store) {',
        '  return async (message) => store.save(message.content);',
        '}',
        'const onMessage = createConsumer(new Map());',
        'module.exports = { createConsumer, onMessage };',
        '',
      ].join('\n'),
      'src/lambda.ts': "import type { SQSEvent } from 'aws-lambda';\nexport const handler = async (event: SQSEvent) => event.Records.length;\n",
    });
    expect(summary((await inspectRepository(dir)).entries)).toEqual([
      'message src/lambda.ts#handler sqs-batch',
      'message src/consumer.js#onMessage payload',
      'message src/worker.ts#processInvoice payload',
      'message src/consumer.js#createConsumer payload',
    ]);
  });

  it('refuses a folder that does not exist, naming it', async () => {
    await expect(inspectRepository(join(root, 'absent'))).rejects.toThrow(`${join(root, 'absent')} is not a folder: pass the repository's folder (default: the current one)`);
  });
});
