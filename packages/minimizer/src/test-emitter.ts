import { posix } from 'node:path';
import { TracemendError, type FailureSignature, type TestFile, type TestRunner } from '@tracemend/contracts';
import { harnessJobLine, REPLAY_SUPPORT_NAME, replaySupportFiles, type ReplayJob } from '@tracemend/sandbox';
import { formatFiles, moduleSpecifier, runnerAdapter, type RunnerAdapter, type TestConventions } from '@tracemend/test-runners';

/** What the emitted test needs: the minimal job as the sandbox replayed it, and how the repository writes tests. */
export interface EmitTestInput {
  /** The minimal job: entry (with the catalog's handler), environment, flags, timing and downstream calls. */
  job: ReplayJob;
  signature: FailureSignature;
  fingerprint: string;
  runner: TestRunner;
  conventions: TestConventions;
  /** Told when the repository's formatter configuration could not be applied (the files are then left as emitted). */
  onFormatProblem?: (problem: string) => void;
}


/** The job line the sandbox harness reads, without what only the sandbox uses (its id, coverage, time limit). */
function incidentOf(job: ReplayJob): Record<string, unknown> {
  const line = JSON.parse(harnessJobLine(job)) as Record<string, unknown>;
  delete line.id;
  delete line.coverage;
  delete line.timeoutMs;
  return line;
}

/** Says what must not happen, without naming the error type: the runner's report must show that on its own. */
function title(job: ReplayJob, signature: FailureSignature, fingerprint: string): string {
  const entry = job.entry;
  const name = entry.kind === 'http' ? undefined : entry.export;
  const subject = entry.kind === 'http' ? `${entry.method} ${entry.route}` : entry.kind === 'message' ? `${name ?? 'the consumer'} (message from ${entry.topic})` : (name ?? 'the entry');
  const where = signature.frames[0]?.function;
  const failure = entry.kind === 'http' ? 'must not answer with a server error' : 'must not throw';
  const inside = where !== undefined && where !== '<anonymous>' && where !== name ? ` from ${where}` : '';
  return `${subject} ${failure}${inside} (tracemend ${fingerprint.slice(0, 8)})`;
}

/** Where the support file goes: where the runner will not take it for a test, else beside the test. */
function supportDirOf(adapter: RunnerAdapter, conventions: TestConventions): string {
  return adapter.supportDir?.(conventions.dir) ?? conventions.dir;
}

function imports(adapter: RunnerAdapter, conventions: TestConventions): string[] {
  const esm = conventions.syntax === 'esm';
  const relative = posix.relative(conventions.dir, posix.join(supportDirOf(adapter, conventions), `${REPLAY_SUPPORT_NAME}.${conventions.support === 'esm' ? 'mjs' : 'cjs'}`));
  const support = relative.startsWith('.') ? relative : `./${relative}`;
  // jest and mocha give `it` as a global, as the repository's own tests use it; ava's `test` is its default export.
  const it = adapter.itImport(conventions.syntax);
  return [...(it === undefined ? [] : [it]), esm ? `import { replay } from '${support}';` : `const { replay } = require('${support}');`];
}

/**
 * Emits a regression test in the repository's own runner and conventions. The test replays the
 * minimal job through the support file written beside it (the sandbox harness's own replay, bundled),
 * loading the entry's module itself so the runner's transform applies; the entry's own error fails
 * it, so on the recorded commit it fails with the recorded signature and after a fix it passes.
 */
export async function emitRegressionTest(input: EmitTestInput): Promise<TestFile> {
  const { job, runner, conventions } = input;
  let adapter: RunnerAdapter;
  try {
    adapter = runnerAdapter(runner);
  } catch (error) {
    throw new TracemendError('MINIMIZATION_FAILED', `cannot emit the regression test: ${(error as Error).message}`, { cause: error });
  }
  const modules =
    job.entry.kind === 'http'
      ? job.httpApp === undefined
        ? undefined
        : { entry: job.httpApp.module, args: job.httpApp.args?.module }
      : { entry: job.entry.module, args: undefined };
  if (modules?.entry === undefined) {
    throw new TracemendError(
      'MINIMIZATION_FAILED',
      job.entry.kind === 'http'
        ? "an HTTP entry needs the service catalog's httpApp {module, export} (services.<name>.httpApp) to emit a test"
        : 'the entry names no module: add the handler {module, export} to the service catalog (services.<name>.functionHandler or messageHandler)',
    );
  }
  const load = (module: string): string => {
    const specifier = moduleSpecifier(conventions.dir, module, conventions.specifiers);
    return conventions.syntax === 'esm' ? `() => import('${specifier}')` : `() => require('${specifier}')`;
  };
  const slug = input.fingerprint.slice(0, 8);
  const supportName = `${REPLAY_SUPPORT_NAME}.${conventions.support === 'esm' ? 'mjs' : 'cjs'}`;
  const lines = [
    `// Regression test for a production failure reproduced by tracemend (incident ${slug}). It replays the`,
    `// minimal input with the recorded clock, randomness, environment and downstream answers through`,
    `// ${supportName}, the replay the sandbox reproduced it with: it fails while the bug is there.`,
    ...imports(adapter, conventions),
    ``,
    `const incident = ${JSON.stringify(incidentOf(job), null, 2)};`,
    ``,
    ...adapter.testBlock(title(job, input.signature, input.fingerprint), [
      `  await replay(incident, {`,
      `    entry: ${load(modules.entry)},`,
      ...(modules.args === undefined ? [] : [`    args: ${load(modules.args)},`]),
      `  });`,
    ]),
  ];
  const path = posix.join(conventions.dir, `tracemend-${slug}${conventions.suffix}${conventions.extension}`);
  const support = await replaySupportFiles(supportDirOf(adapter, conventions), conventions.support, conventions.typescript);
  // Formatted as the repository's prettier configuration says, so its format check passes on the PR.
  const { files, problem } = await formatFiles([{ path, content: `${lines.join('\n')}\n` }, ...support], conventions.formatter);
  if (problem !== undefined) input.onFormatProblem?.(problem);
  const [test, ...formattedSupport] = files;
  return { path, content: test!.content, runner, command: adapter.fileCommand(path, conventions.typescript), support: formattedSupport };
}
