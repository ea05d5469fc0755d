// Where the stage packages are built with real clients and handed to the workers.
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { TracemendError, type PullRequestInput, type StageActivities } from '@tracemend/contracts';
import { createLocalizationActivities } from '@tracemend/fault-localization';
import { createGitRepositories, createIngestActivities, createTriageActivities, createVersionResolver } from '@tracemend/ingest';
import { collectSpectrumRuns, createMinimizerActivities } from '@tracemend/minimizer';
import { createPrBotActivities } from '@tracemend/pr-bot';
import { knownRawValues, scanForLeaks, type RawValueRegistry } from '@tracemend/privacy-gate';
import { createRepairActivities } from '@tracemend/repair';
import { DockerSandboxDriver, WarmPool, cancellableDriver, cancellableWorkspace, type PreparedTarget, createSandboxActivities, createWorkspace, harnessStarter, sandboxImageTag, type SandboxStageDeps } from '@tracemend/sandbox';
import type { Logger } from '@tracemend/telemetry';
import { createVerifierActivities } from '@tracemend/verifier';
import type { WorkerConfig } from './env';
import { guardStageActivities } from './egress';
import { currentActivitySignal } from './stage-activities';
import { buildGateStage, workerEvidenceStore } from './gate-stage';

/** Long-lived parts the caller owns and shuts down, e.g. the warm pool it drains on shutdown. */
export interface StageResources {
  /** Warm sandbox containers; without it every harness starts cold. */
  warmPool?: WarmPool;
}

/** The warm pool the configuration asks for, or undefined when it is off; warm containers are never tied to an activity. */
export function createWarmPool(config: WorkerConfig, logger: Logger): WarmPool | undefined {
  if (config.sandboxWarmPool === 0) return undefined;
  const driver = new DockerSandboxDriver({ logger: logger.child({ component: 'sandbox-pool' }) });
  const image = config.sandboxImage ?? sandboxImageTag();
  return new WarmPool({ driver, image, perKey: config.sandboxWarmPool, total: config.sandboxWarmPool * config.sandboxConcurrency, logger });
}

/** The reproduce stage's runs and threshold as the operator configured them; unset ones keep the sandbox's defaults. */
export function reproductionSettings(config: Pick<WorkerConfig, 'reproductionRuns' | 'reproductionThreshold'>): Pick<SandboxStageDeps, 'runs' | 'threshold'> {
  return {
    ...(config.reproductionRuns === undefined ? {} : { runs: config.reproductionRuns }),
    ...(config.reproductionThreshold === undefined ? {} : { threshold: config.reproductionThreshold }),
  };
}

/**
 * Builds every stage with its real dependencies: the evidence store, the privacy key and audit log,
 * the Docker driver and the sandbox workspace, Octokit for the configured GitHub.
 */
export async function buildStages(
  config: WorkerConfig,
  logger: Logger,
  rawValues?: RawValueRegistry,
  resources: StageResources = {},
): Promise<Partial<StageActivities>> {
  // One resolver for ingest (frames → repository files) and triage (version → commit), sharing its memo and git mirrors.
  const versions = createVersionResolver(createGitRepositories({ cacheDir: join(config.stateDir, 'git') }));
  const gate = await buildGateStage(config, logger, workerEvidenceStore(config), rawValues);
  const { store, registry, hashOf } = gate;
  // Every container a stage starts dies with its activity when the workflow is cancelled.
  const driver = cancellableDriver(new DockerSandboxDriver({ logger: logger.child({ component: 'sandbox' }) }), currentActivitySignal);
  const image = config.sandboxImage ?? sandboxImageTag();
  // An image the operator named serves every target; otherwise each target runs the Node it asks for.
  const workspace = cancellableWorkspace(
    createWorkspace({ root: join(config.stateDir, 'workspace'), logger, matchNode: config.sandboxImage === undefined }),
    currentActivitySignal,
  );
  const pool = resources.warmPool;
  const starter = harnessStarter({ driver, image, logger, ...(pool ? { pool } : {}) });
  // A warm harness was started outside any activity: tie it to the activity that takes it.
  const startHarness = (prepared: PreparedTarget, incidentId: string, signal = currentActivitySignal()) => starter(prepared, incidentId, signal);

  const openPullRequest = async (input: PullRequestInput) => {
    if (config.github === undefined) {
      throw new TracemendError('GITHUB_REJECTED', 'no GitHub target is configured: set TRACEMEND_GITHUB_API_URL (and TRACEMEND_GITHUB_TOKEN)');
    }
    const known = knownRawValues(await store.getRawValueHashes(input.gated.privacy.audit.recordHash), hashOf);
    const quiet = (message: string) => logger.debug({ component: 'octokit' }, message);
    // The PR bot expects some 404s (a branch not there yet); Octokit's own request log goes to debug.
    const octokit = new Octokit({
      baseUrl: config.github.apiUrl,
      ...(config.github.token ? { auth: config.github.token } : {}),
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    const prBot = createPrBotActivities({
      octokit,
      logger,
      // The egress guard: nothing the gate removed, and nothing a detector flags, leaves in a PR.
      egress: (text, where) => {
        const findings = scanForLeaks(text, { knownRawValueHashes: known });
        if (findings.length > 0) {
          throw new TracemendError('EGRESS_BLOCKED', `the egress guard blocked ${where}: ${[...new Set(findings.map((f) => f.detector))].join(', ')}`);
        }
      },
    });
    return prBot.openPullRequest(input);
  };

  // The egress guard learns the raw-value hashes of every gated envelope a stage works on and checks failure messages.
  return guardStageActivities(registry, (auditHash) => store.getRawValueHashes(auditHash), {
    ...createIngestActivities({ store, logger, catalog: { file: config.catalogFile, resolver: versions } }),
    ...gate.activities,
    ...createTriageActivities({ catalogFile: config.catalogFile, resolver: versions }),
    ...createSandboxActivities({ driver, image, workspace, logger, ...(pool ? { pool } : {}), ...reproductionSettings(config) }),
    ...createMinimizerActivities({ workspace, startHarness, logger }),
    ...createLocalizationActivities({
      collectRuns: async (input) => {
        const prepared = await workspace.prepare(input.target);
        const harness = await startHarness(prepared, input.incidentId, currentActivitySignal());
        try {
          return await collectSpectrumRuns({ harness, minimal: input.minimal, repoDir: prepared.repoDir, target: input.target });
        } finally {
          await harness.close();
        }
      },
      logger,
    }),
    ...createRepairActivities({ checkoutOf: async (target) => (await workspace.prepare(target)).repoDir, logger }),
    ...createVerifierActivities({ driver, image, workspace, workRoot: join(config.stateDir, 'workspace', 'verify'), logger }),
    openPullRequest,
  });
}
