import { CatalogService, ServiceCatalog } from './catalog';
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
const catalog: ServiceCatalog = { version: 1, services: { 'users-api': usersApi, leaderboard } };

export const catalogCases: CaseTable = {
  CatalogService: casesOf(CatalogService, [usersApi, leaderboard], (change) => [
    change.missing(['repository', 'cloneUrl']),
    change.missing(['dataContract']),
    change.wrongType(['test', 'command'], 'npx vitest run'),
    change.overBound(['test', 'command'], repeat(65, 'x')),
    change.overBound(['repository', 'cloneUrl'], chars(2_049)),
    change.outOfDomain(['test', 'runner'], 'ava'),
  ]),
  ServiceCatalog: casesOf(ServiceCatalog, [catalog, { version: 1, services: {} }], (change) => [
    change.missing(['version'], /expected 1/),
    change.missing(['services', 'users-api', 'test']),
    change.wrongType(['services'], [usersApi]),
    change.overBound(['services'], entries(1_001, usersApi), /at most 1000 services/),
    change.outOfDomain(['version'], 2, /expected 1/),
    change.outOfDomain(['services', 'users-api', 'test', 'runner'], 'ava'),
  ]),
};
