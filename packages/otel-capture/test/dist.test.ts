// The package ships built JavaScript: both a CommonJS and an ES module consumer must be able to load it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
let consumerDir: string;

// Each consumer loads the package by name, creates hooks and runs the default redactor.
const probe = (m: string): string =>
  `const names = Object.keys(${m}).sort().join(','); const hooks = ${m}.captureHttp({ maxBytes: 10 }); ` +
  `const redacted = ${m}.defaultRedactor('s', { kind: 'faas.event', path: ['password'] }); ` +
  `process.stdout.write(JSON.stringify({ names, hooks: typeof hooks.requestHook + typeof hooks.responseHook, redacted }));`;

beforeAll(() => {
  execFileSync(process.execPath, [join(packageDir, 'scripts/build.mjs')], { cwd: packageDir, stdio: 'pipe' });
  consumerDir = mkdtempSync(join(tmpdir(), 'otel-capture-consumer-'));
  mkdirSync(join(consumerDir, 'node_modules/@tracemend'), { recursive: true });
  symlinkSync(packageDir, join(consumerDir, 'node_modules/@tracemend/otel-capture'), 'dir');
}, 180_000);
afterAll(() => rmSync(consumerDir, { recursive: true, force: true }));

function run(args: string[]): { names: string; hooks: string; redacted: string } {
  return JSON.parse(execFileSync(process.execPath, args, { cwd: consumerDir, encoding: 'utf8' })) as { names: string; hooks: string; redacted: string };
}

describe('built package', () => {
  it('loads with require() from a CommonJS consumer', () => {
    const out = run(['-e', `const m = require('@tracemend/otel-capture'); ${probe('m')}`]);
    expect(out.hooks).toBe('functionfunction');
    expect(out.redacted).toBe('[REDACTED]');
    expect(out.names).toContain('applyCapture');
  });

  it('loads with import from an ES module consumer and exports the same names', () => {
    const esm = run(['--input-type=module', '-e', `import * as m from '@tracemend/otel-capture'; ${probe('m')}`]);
    const cjs = run(['-e', `const m = require('@tracemend/otel-capture'); ${probe('m')}`]);
    expect(esm.hooks).toBe('functionfunction');
    expect(esm.redacted).toBe('[REDACTED]');
    // The ES namespace has no __esModule marker; otherwise both builds export the same API.
    expect(esm.names).toBe(cjs.names.split(',').filter((n) => n !== '__esModule').join(','));
  });

  it('ships type declarations for both entry points', () => {
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, { types: string }>> };
    for (const condition of ['import', 'require']) {
      const types = pkg.exports['.']?.[condition]?.types ?? '';
      expect(readFileSync(join(packageDir, types), 'utf8')).toContain('export { captureHttp');
    }
  });
});
