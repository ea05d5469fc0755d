// Where the stage packages are built with real clients and handed to the workers.
import { join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { TracemendError, type PullRequestInput, type StageActivities } from '@tracemend/contracts';
import { createLocalizationActivities } from '@tracemend/fault-localization';
import { createEvidenceStore, createIngestActivities, createTriageActivities, dataContractPath, loadServiceCatalog } from '@tracemend/ingest';
import { collectSpectrumRuns, createMinimizerActivities } from '@tracemend/minimizer';
import { createPrBotActivities } from '@tracemend/pr-bot';
import { createAuditLog, createPrivacyGateActivities, scanForLeaks } from '@tracemend/privacy-gate';
import { createRepairActivities } from '@tracemend/repair';
import { DockerSandboxDriver, createSandboxActivities, createWorkspace, harnessStarter, sandboxImageTag } from '@tracemend/sandbox';
import type { Logger } from '@tracemend/telemetry';
import { createVerifierActivities } from '@tracemend/verifier';
import type { WorkerConfig } from './env';
import { localTokenKey } from './token-key';

/**
 * Builds every stage with its real dependencies: the evidence store, the privacy key and audit log,
 * the Docker driver and the sandbox workspace, Octokit for the configured GitHub.
 */
export async function buildStages(config: WorkerConfig, logger: Logger): Promise<Partial<StageActivities>> {
  const store = createEvidenceStore(join(config.stateDir, 'evidence'));
  const key = config.tokenKey ?? (await localTokenKey(join(config.stateDir, 'keys')));
  const audit = createAuditLog({ file: join(config.stateDir, 'audit', 'privacy.jsonl'), auditId: 'privacy' });
  const driver = new DockerSandboxDriver({ logger: logger.child({ component: 'sandbox' }) });
  const image = config.sandboxImage ?? sandboxImageTag();
  const workspace = createWorkspace({ root: join(config.stateDir, 'workspace'), logger });
  const startHarness = harnessStarter({ driver, image, logger });

  const openPullRequest = async (input: PullRequestInput) => {
    if (config.github === undefined) {
      throw new TracemendError('GITHUB_REJECTED', 'no GitHub target is configured: set TRACEMEND_GITHUB_API_URL (and TRACEMEND_GITHUB_TOKEN)');
    }
    const known = new Set(await store.getRawValueHashes(input.gated.privacy.audit.recordHash));
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

  return {
    ...createIngestActivities({ store, logger }),
    ...createPrivacyGateActivities({
      loadEnvelope: (id) => store.getEnvelope(id),
      contractFile: async (service) => dataContractPath(await loadServiceCatalog(config.catalogFile), service),
      key,
      audit,
      saveRawValueHashes: (auditHash, hashes) => store.putRawValueHashes(auditHash, hashes),
      logger,
    }),
    ...createTriageActivities({ catalogFile: config.catalogFile }),
    ...createSandboxActivities({ driver, image, workspace, logger }),
    ...createMinimizerActivities({ workspace, startHarness, logger }),
    ...createLocalizationActivities({
      collectRuns: async (input) => {
        const prepared = await workspace.prepare(input.target);
        const harness = await startHarness(prepared, input.incidentId);
        try {
          return await collectSpectrumRuns({ harness, minimal: input.minimal, repoDir: prepared.repoDir, ...(input.target.httpApp ? { httpApp: input.target.httpApp } : {}) });
        } finally {
          await harness.close();
        }
      },
      logger,
    }),
    ...createRepairActivities({ checkoutOf: async (target) => (await workspace.prepare(target)).repoDir, logger }),
    ...createVerifierActivities({ driver, image, workspace, workRoot: join(config.stateDir, 'workspace', 'verify'), logger }),
    openPullRequest,
  };
}
