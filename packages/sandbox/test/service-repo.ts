import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { installDependencies } from '../src/dependencies';
import { handToSandboxUser, TEST_DEPS_CACHE, type PreparedRepo } from './fixtures';

const execFileAsync = promisify(execFile);

/** The framework and library versions the service repository pins, as a production service would. */
export const SERVICE_DEPENDENCIES = {
  '@hapi/hapi': '21.4.13',
  '@nestjs/common': '11.2.12',
  '@nestjs/core': '11.2.12',
  '@nestjs/platform-express': '11.2.12',
  express: '5.3.0',
  fastify: '5.12.8',
  koa: '3.3.0',
  'reflect-metadata': '0.2.2',
  rxjs: '7.8.2',
  semver: '7.8.6',
};

/**
 * Plain JavaScript service code: one order route served by every framework, each factory taking the
 * dependencies the test helper (`test/deps.mjs`) builds; Lambda handlers, queue consumers, and code that
 * hands bad input to a dependency.
 */
const FILES: Record<string, string> = {
  'src/pricing.mjs': `
export function priceOf(order) {
  return order.lines.reduce((sum, line) => sum + line.qty * line.unitPrice, 0);
}
`,
  'src/orders.mjs': `
import { priceOf } from './pricing.mjs';

// Echoes what arrived; the "crash" order has no lines, which priceOf does not expect.
export function handleOrder(deps, request) {
  if (request.id === 'crash') return { total: priceOf(request.body) };
  return { store: deps.store.name, method: request.method, id: request.id, query: request.query, tenant: request.headers['x-tenant'], body: request.body };
}
`,
  'src/versions.mjs': `
import semver from 'semver';

export function parseRelease(text) {
  return new semver.SemVer(text);
}

export function releaseNotes(release) {
  const version = parseRelease(release.version);
  return { major: version.major, notes: release.notes };
}
`,
  'test/deps.mjs': `
// What the repository's own tests build the app with: in-memory fakes instead of real stores.
export async function buildDeps() {
  return [{ store: { name: 'memory-store' } }];
}
export const single = { store: { name: 'single-value' } };
`,
  'src/express-app.mjs': `
import express from 'express';
import { handleOrder } from './orders.mjs';
import { releaseNotes } from './versions.mjs';

export function createApp(deps) {
  const app = express();
  app.use(express.json());
  app.post('/orders/:id', function route(req, res) {
    res.json(handleOrder(deps, { method: req.method, id: req.params.id, query: req.query, headers: req.headers, body: req.body }));
  });
  app.get('/releases/:version', function release(req, res) {
    res.json(releaseNotes({ version: req.params.version, notes: 'n/a' }));
  });
  return app;
}
`,
  'src/fastify-app.mjs': `
import Fastify from 'fastify';
import { handleOrder } from './orders.mjs';

export async function buildApp(deps) {
  const app = Fastify({ logger: false });
  app.post('/orders/:id', async function route(request) {
    return handleOrder(deps, { method: request.method, id: request.params.id, query: { ...request.query }, headers: request.headers, body: request.body });
  });
  return app;
}
`,
  'src/koa-app.mjs': `
import Koa from 'koa';
import { handleOrder } from './orders.mjs';

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export function createApp(deps) {
  const app = new Koa();
  app.silent = true;
  app.use(async function route(ctx) {
    const match = /^\\/orders\\/([^/]+)$/.exec(ctx.path);
    if (!match || ctx.method !== 'POST') return;
    const body = await readJson(ctx.req);
    ctx.body = handleOrder(deps, { method: ctx.method, id: match[1], query: { ...ctx.query }, headers: ctx.headers, body });
  });
  return app;
}
`,
  'src/hapi-app.mjs': `
import Hapi from '@hapi/hapi';
import { handleOrder } from './orders.mjs';

export async function createServer(deps) {
  const server = Hapi.server({ port: 0, host: '127.0.0.1', debug: false });
  server.route({
    method: 'POST',
    path: '/orders/{id}',
    handler: function route(request) {
      return handleOrder(deps, { method: request.method.toUpperCase(), id: request.params.id, query: { ...request.query }, headers: request.headers, body: request.payload });
    },
  });
  return server;
}
`,
  'src/nest-app.mjs': `
import 'reflect-metadata';
import { Controller, HttpCode, Inject, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { handleOrder } from './orders.mjs';

class OrdersController {
  constructor(deps) {
    this.deps = deps;
  }
  route(req) {
    return handleOrder(this.deps, { method: req.method, id: req.params.id, query: { ...req.query }, headers: req.headers, body: req.body });
  }
}
// Decorators applied by hand: plain JavaScript has no decorator syntax.
Inject('DEPS')(OrdersController, undefined, 0);
Req()(OrdersController.prototype, 'route', 0);
for (const decorate of [Post(':id'), HttpCode(200)]) decorate(OrdersController.prototype, 'route', Object.getOwnPropertyDescriptor(OrdersController.prototype, 'route'));
Controller('orders')(OrdersController);

export async function createNestApp(deps) {
  class AppModule {}
  Module({ controllers: [OrdersController], providers: [{ provide: 'DEPS', useValue: deps }] })(AppModule);
  return await NestFactory.create(AppModule, { logger: false });
}
`,
  'src/listener.mjs': `
import { createServer } from 'node:http';
import { handleOrder } from './orders.mjs';

export function createListener(deps) {
  return function listener(req, res) {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', function route() {
      const url = new URL(req.url, 'http://local');
      const id = url.pathname.split('/').at(-1);
      let answer;
      try {
        answer = handleOrder(deps, { method: req.method, id, query: Object.fromEntries(url.searchParams), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch (error) {
        res.statusCode = 500;
        res.end(String(error));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
  };
}

export function createHttpServer(deps) {
  return createServer(createListener(deps));
}
`,
  'src/lambda.mjs': `
export const handler = async (event, context) => {
  const orders = event.Records.map((record) => JSON.parse(record.body));
  return {
    orders,
    requestId: context.awsRequestId,
    functionName: context.functionName,
    arn: context.invokedFunctionArn,
    memory: context.memoryLimitInMB,
    remaining: context.getRemainingTimeInMillis(),
    waits: context.callbackWaitsForEmptyEventLoop,
  };
};

// Callback style: Lambda passes a third parameter and waits for it.
export function legacy(event, context, callback) {
  setTimeout(() => {
    if (event.detail?.lines === undefined) callback(new TypeError('no lines in ' + context.functionName));
    else callback(null, { lines: event.detail.lines.length, type: event['detail-type'] });
  }, 10);
}
`,
  'src/consumers.mjs': `
export async function onSqsBatch(event) {
  return event.Records.map((record) => ({ id: record.messageId, body: JSON.parse(record.body), tenant: record.messageAttributes.tenant?.stringValue, source: record.eventSource }));
}

export async function onSqsRecord(record) {
  return { id: record.messageId, body: JSON.parse(record.body) };
}

export async function onSns(event) {
  const sns = event.Records[0].Sns;
  return { id: sns.MessageId, topic: sns.TopicArn, body: JSON.parse(sns.Message) };
}

export async function eachMessage({ topic, partition, message, heartbeat }) {
  await heartbeat();
  return {
    topic,
    partition,
    key: message.key.toString(),
    valueIsBuffer: Buffer.isBuffer(message.value),
    value: JSON.parse(message.value.toString()),
    tenant: message.headers.tenant.toString(),
  };
}

export async function onPayload(payload) {
  return { lines: payload.lines.length };
}
`,
};

/** Writes the service repository under `dir`, resolves its lockfile against the registry and installs it in the shared cache. */
export async function prepareServiceRepo(dir: string): Promise<PreparedRepo> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'service', version: '1.0.0', private: true, type: 'module', dependencies: SERVICE_DEPENDENCIES }, null, 2));
  for (const [path, content] of Object.entries(FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content.trimStart());
  }
  // fastify's inject helper pulls cookie@2, which declares node >=22 yet loads on 20; a package manager
  // running this test may set engine-strict, which would refuse the lockfile for that alone.
  await execFileAsync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false'], { cwd: dir });
  const { depsDir } = await installDependencies({ repoDir: dir, cacheRoot: TEST_DEPS_CACHE });
  await handToSandboxUser(dir);
  return { repoDir: dir, depsDir, sha: '' };
}
