// Regenerates the runner reports the failure judge is tested on: writes a tiny repository with four
// tests (three failing) to a temporary folder, installs the runners from the npm registry, runs each runner
// the way the verifier does and keeps its report and output here. The folder's path is rewritten to
// /work, the sandbox's working directory, so the files read as a sandboxed run would leave them.
//   node test/runner-reports/generate.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const RUNNERS = { ava: '6.4.1', jest: '30.5.2', mocha: '12.0.3', vitest: '4.1.12' };

const SOURCES = {
  'package.json': '{ "name": "shop", "private": true, "type": "commonjs" }\n',
  'src/cart.js': `'use strict';

function lineTotal(item) {
  return item.price.total * item.quantity;
}

function priceCart(cart) {
  return cart.items.map(lineTotal).reduce((sum, total) => sum + total, 0);
}

module.exports = { priceCart };
`,
  'src/period.js': `'use strict';

function periodStart(text) {
  return new Date(text).toISOString();
}

module.exports = { periodStart };
`,
  'src/settings.js': `'use strict';
const { readFileSync } = require('node:fs');

function loadSettings(options) {
  return JSON.parse(readFileSync(options.path, 'utf8'));
}

module.exports = { loadSettings };
`,
};

const TESTS = `describe('shop', () => {
  it('prices a cart whose item has no price', () => {
    assert.equal(priceCart({ items: [{ quantity: 2 }] }), 0);
  });
  it('prices an empty cart', () => {
    assert.equal(priceCart({ items: [] }), 0);
  });
  it('starts a period from an unparseable date', () => {
    assert.equal(periodStart('31/02/2026'), '2026-02-28T00:00:00.000Z');
  });
  it('loads settings without a path', () => {
    assert.deepEqual(loadSettings({}), {});
  });
});
`;
// ava has no suites and fails a test that ran no assertion: the same four tests, written its way.
const AVA_TESTS = `test('prices a cart whose item has no price', (t) => {
  t.is(priceCart({ items: [{ quantity: 2 }] }), 0);
});
test('prices an empty cart', (t) => {
  t.is(priceCart({ items: [] }), 0);
});
test('starts a period from an unparseable date', (t) => {
  t.is(periodStart('31/02/2026'), '2026-02-28T00:00:00.000Z');
});
test('loads settings without a path', (t) => {
  t.deepEqual(loadSettings({}), {});
});
`;
const REQUIRES = `const { priceCart } = require('../src/cart.js');
const { periodStart } = require('../src/period.js');
const { loadSettings } = require('../src/settings.js');
`;

const root = mkdtempSync(join(tmpdir(), 'runner-reports-'));
const work = join(root, 'work');
try {
  for (const [path, text] of Object.entries(SOURCES)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), text);
  }
  mkdirSync(join(work, 'test'));
  const strict = "'use strict';\nconst assert = require('node:assert/strict');\n";
  writeFileSync(join(work, 'test/jest.test.js'), `${strict}${REQUIRES}\n${TESTS}`);
  writeFileSync(join(work, 'test/mocha.spec.js'), `${strict}${REQUIRES}\n${TESTS}`);
  writeFileSync(join(work, 'test/node.test.js'), `${strict}const { describe, it } = require('node:test');\n${REQUIRES}\n${TESTS}`);
  writeFileSync(join(work, 'test/ava.test.js'), `'use strict';\nconst test = require('ava');\n${REQUIRES}\n${AVA_TESTS}`);
  writeFileSync(
    join(work, 'test/vitest.test.mjs'),
    `import assert from 'node:assert/strict';\nimport { createRequire } from 'node:module';\nimport { describe, it } from 'vitest';\n\nconst require = createRequire(import.meta.url);\n${REQUIRES}\n${TESTS}`,
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', ...Object.entries(RUNNERS).map(([name, version]) => `${name}@${version}`)], {
    cwd: work,
    stdio: 'inherit',
  });

  const env = { PATH: process.env.PATH, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0', TZ: 'UTC', HOME: work };
  const keep = (name, text) => writeFileSync(join(here, name), text.replaceAll(work, '/work'));
  const run = (name, argv) => {
    const result = spawnSync('node', argv, { cwd: work, env, encoding: 'utf8' });
    keep(`${name}.output.txt`, `${result.stdout}${result.stderr}`);
    return result;
  };

  run('jest', ['node_modules/jest/bin/jest.js', '--json', '--outputFile=report.json', 'test/jest.test.js']);
  keep('jest.report.json', readFileSync(join(work, 'report.json'), 'utf8'));
  run('mocha', ['node_modules/mocha/bin/mocha.js', '--reporter', 'json', '--reporter-option', 'output=report.json', 'test/mocha.spec.js']);
  keep('mocha.report.json', readFileSync(join(work, 'report.json'), 'utf8'));
  run('vitest', ['node_modules/vitest/vitest.mjs', 'run', 'test/vitest.test.mjs', '--reporter=default', '--reporter=json', '--outputFile.json=report.json']);
  keep('vitest.report.json', readFileSync(join(work, 'report.json'), 'utf8'));
  const tap = run('node-test', ['--test', '--test-reporter=tap', '--test-reporter-destination=stdout', 'test/node.test.js']);
  keep('node-test.report.tap', tap.stdout);
  const avaTap = run('ava', ['node_modules/ava/entrypoints/cli.mjs', 'test/ava.test.js', '--tap']);
  keep('ava.report.tap', avaTap.stdout);
  // An uncaught error as Node itself prints it, for a runner without a report.
  run('node-uncaught', ['-e', "require('./src/settings.js').loadSettings({})"]);
} finally {
  rmSync(root, { recursive: true, force: true });
}
