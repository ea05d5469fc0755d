// Builds (or confirms) the sandbox base image and prints one line; exit 1 when Docker does not answer.
import { TracemendError } from '@tracemend/contracts';
import { buildBaseImage } from '../src/index';

try {
  const result = await buildBaseImage();
  const hash12 = result.contentHash.slice(0, 12);
  if (result.status === 'built') {
    const seconds = (result.durationMs / 1000).toFixed(1);
    process.stdout.write(`[done] sandbox image: built ${result.tag} (${hash12}) in ${seconds} s\n`);
  } else {
    process.stdout.write(`[skip] sandbox image: ${result.tag} (${hash12}) present\n`);
  }
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof TracemendError && error.code === 'SANDBOX_UNAVAILABLE' ? ' (is dockerd running? try `docker info`)' : '';
  process.stderr.write(`[fail] sandbox image: ${message}${hint}\n`);
  process.exitCode = 1;
}
