// The `tracemend` executable: runs one command and exits with its code.
import { runCli } from './cli';
import { processIo } from './io';

runCli(process.argv.slice(2), processIo).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tracemend: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
