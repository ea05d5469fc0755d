// `pnpm build`: bundles the workflow code once into dist/, so workers start without bundling.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@tracemend/telemetry';
import { bundleWorkflows } from './workers';

export const DEFAULT_BUNDLE_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'workflow-bundle.js');

async function main(): Promise<void> {
  const logger = createLogger({ name: 'bundle-workflows', level: 'warn' });
  const { code } = await bundleWorkflows(logger);
  await mkdir(dirname(DEFAULT_BUNDLE_PATH), { recursive: true });
  await writeFile(DEFAULT_BUNDLE_PATH, code);
  logger.info({ path: DEFAULT_BUNDLE_PATH, bytes: code.length }, 'workflow bundle written');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    process.stderr.write(`bundling the workflow code failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
