// Emits dist/esm (import) and dist/cjs (require), each with declarations, from the same sources.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const config of ['tsconfig.build.esm.json', 'tsconfig.build.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', join(root, config)], { cwd: root, stdio: 'inherit' });
}
// The package is "type": "module"; this marker makes Node read dist/cjs as CommonJS.
writeFileSync(join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');
