import { CatalogService, ServiceCatalog, VersionConfig } from './catalog';
import { FaasEventShape, FeatureFlagsConfig, FunctionHandlerConfig, HttpAppConfig, MessageEnvelopeShape, MessageHandlerConfig, ModuleExport } from './entry-config';
import { casesOf, chars, entries, repeat, type CaseTable } from './contract-cases';

const usersApi: CatalogService = {
  repository: { owner: 'acme', name: 'users-api', cloneUrl: 'https://github.com/acme/users-api.git' },
  baseBranch: 'main',
  test: { runner: 'vitest', command: ['npx', 'vitest', 'run'] },
  dataContract: 'contracts/users-api.yaml',
  httpApp: { module: 'src/app.ts', export: 'createApp' },
};
const leaderboard: CatalogService = {
  repository: { owner: 'acme', name: 'leaderboard', cloneUrl: '/srv/git/leaderboard.git' },
  baseBranch: 'trunk',
  test: { runner: 'node:test', command: ['node', '--import', 'tsx', '--test', 'test/leaderboard.test.ts'] },
  dataContract: 'contracts/leaderboard.yaml',
};
const signupLambda: CatalogService = {
  repository: { owner: 'acme', name: 'signup', cloneUrl: 'https://github.com/acme/signup.git' },
  baseBranch: 'main',
  test: { runner: 'mocha', command: ['npx', 'mocha'] },
  dataContract: 'contracts/signup.yaml',
  version: { tagPattern: 'signup@{version}', commits: { '2.7.1': 'a'.repeat(40) } },
  deployRoot: '/opt/functions/signup/',
  functionHandler: { module: 'src/handler.js', export: 'handler', event: 'api-gateway-v2' },
  messageHandler: { module: 'src/consumer.js', export: 'onMessage', envelope: 'sqs-batch' },
  featureFlags: { env: 'FEATURE_FLAGS', format: 'pairs', separator: ',', on: 'on', off: 'off' },
};
const ordersApi: CatalogService = {
  ...usersApi,
  httpApp: { module: 'src/app.ts', export: 'buildApp', args: { module: 'test/helpers/fakes.ts', export: 'makeDeps' } },
};
// The test block may be left out, whole or in part: triage reads the rest from the repository.
const detectedTests: CatalogService = { repository: usersApi.repository, baseBranch: 'main', dataContract: 'contracts/billing.yaml' };
const commandOnly: CatalogService = { ...detectedTests, test: { command: ['npm', 'run', 'test:unit'] } };
const catalog: ServiceCatalog = { version: 1, services: { 'users-api': usersApi, leaderboard, billing: detectedTests } };

export const catalogCases: CaseTable = {
  ModuleExport: casesOf(ModuleExport, [{ module: 'src/app.ts', export: 'createApp' }], (change) => [
    change.missing(['export']),
    change.wrongType(['module'], 3),
    change.overBound(['module'], chars(1_025)),
    change.outOfDomain(['export'], '', /Too small/),
  ]),
  HttpAppConfig: casesOf(HttpAppConfig, [ordersApi.httpApp, usersApi.httpApp], (change) => [
    change.missing(['args', 'module']),
    change.wrongType(['args'], 'test/helpers/fakes.ts'),
    change.overBound(['args', 'module'], chars(1_025)),
    change.outOfDomain(['args', 'export'], '', /Too small/),
  ]),
  FaasEventShape: casesOf(FaasEventShape, ['auto', 'api-gateway-v1', 'scheduled'], (change) => [
    change.missing([]),
    change.wrongType([], 1),
    change.outOfDomain([], 'alb'),
  ]),
  FunctionHandlerConfig: casesOf(FunctionHandlerConfig, [signupLambda.functionHandler, { module: 'index.js', export: 'handler', event: 'auto' }], (change) => [
    change.missing(['module']),
    change.wrongType(['event'], ['sqs']),
    change.overBound(['module'], chars(1_025)),
    change.outOfDomain(['event'], 'kinesis'),
  ]),
  MessageEnvelopeShape: casesOf(MessageEnvelopeShape, ['auto', 'kafka', 'payload'], (change) => [
    change.missing([]),
    change.wrongType([], true),
    change.outOfDomain([], 'amqp'),
  ]),
  MessageHandlerConfig: casesOf(MessageHandlerConfig, [signupLambda.messageHandler, { module: 'src/consumer.ts', export: 'handle', envelope: 'auto' }], (change) => [
    change.missing(['export']),
    change.wrongType(['envelope'], 1),
    change.overBound(['module'], chars(1_025)),
    change.outOfDomain(['envelope'], 'rabbitmq'),
  ]),
  FeatureFlagsConfig: casesOf(FeatureFlagsConfig, [signupLambda.featureFlags, { env: 'APP_FLAGS', format: 'json', separator: ',', on: 'true', off: 'false' }], (change) => [
    change.missing(['env']),
    change.wrongType(['separator'], 1),
    change.overBound(['on'], chars(65)),
    change.outOfDomain(['env'], 'feature-flags', /environment variable name/),
    change.outOfDomain(['format'], 'yaml'),
  ]),
  VersionConfig: casesOf(VersionConfig, [{ tagPattern: 'v{version}' }, signupLambda.version, { commits: {} }], (change) => [
    change.missing(['tagPattern'], /expected tagPattern or commits/),
    change.wrongType(['tagPattern'], ['v{version}']),
    change.overBound(['tagPattern'], `{version}${chars(256)}`),
    change.outOfDomain(['tagPattern'], 'release-latest', /\{version\}/),
  ]),
  CatalogService: casesOf(CatalogService, [usersApi, leaderboard, signupLambda, ordersApi, detectedTests, commandOnly], (change) => [
    change.missing(['repository', 'cloneUrl']),
    change.missing(['dataContract']),
    change.wrongType(['test', 'command'], 'npx vitest run'),
    change.overBound(['test', 'command'], repeat(65, 'x')),
    change.overBound(['repository', 'cloneUrl'], chars(2_049)),
    change.outOfDomain(['test', 'runner'], 'jasmine'),
    change.overBound(['deployRoot'], chars(1_025)),
    change.outOfDomain(['httpApp', 'export'], '', /Too small/),
  ]),
  ServiceCatalog: casesOf(ServiceCatalog, [catalog, { version: 1, services: {} }], (change) => [
    change.missing(['version'], /expected 1/),
    change.missing(['services', 'users-api', 'repository']),
    change.wrongType(['services'], [usersApi]),
    change.overBound(['services'], entries(1_001, usersApi), /at most 1000 services/),
    change.outOfDomain(['version'], 2, /expected 1/),
    change.outOfDomain(['services', 'users-api', 'test', 'runner'], 'jasmine'),
  ]),
};
