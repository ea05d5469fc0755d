import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TASK_QUEUES, incidentWorkflowId, type IncidentOutcome, type RepairIncidentInput } from '@tracemend/contracts';
import { REPAIR_INCIDENT_WORKFLOW, searchAttributeKeys } from '@tracemend/workflows/client';
import Docker from 'dockerode';
import { doctorPassed, formatDoctor, runDoctor } from './doctor';
import type { CliConfig } from './env';
import type { CliIo } from './io';
import { runCommand } from './local-stack';
import { ensureWorker } from './worker-process';

/** The Temporal UI page of one workflow. */
export function workflowUiUrl(config: CliConfig, workflowId: string): string {
  return `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * Brings the local stack up (Temporal dev server, worker), checks it with doctor and runs one demo
 * incident through the workflow, printing its outcome and where to watch it in the Temporal UI.
 */
export async function runDemo(config: CliConfig, root: string, io: CliIo): Promise<number> {
  io.out('== Temporal dev server');
  const temporal = await runCommand('bash', [join(root, 'infra', 'temporal-dev.sh'), 'start'], { cwd: root, timeoutMs: 120_000 });
  io.out((temporal.stdout + temporal.stderr).trim());
  if (!temporal.ok) {
    io.err(`the Temporal dev server did not start: ${temporal.error ?? 'see above'}`);
    return 1;
  }

  io.out('== worker');
  const worker = await ensureWorker(config, root);
  io.out(worker.started ? `started (pid ${worker.pid ?? '?'}), log ${worker.log}` : `already polling, log ${worker.log}`);

  io.out('== doctor');
  const results = await runDoctor({ config, root, docker: new Docker() });
  io.out(formatDoctor(results));
  if (!doctorPassed(results)) {
    io.err('doctor found a required part missing; fix it and rerun');
    return 1;
  }

  io.out('== demo incident');
  const connection = await Connection.connect({ address: config.temporalAddress });
  try {
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const incidentId = randomUUID().replace(/-/g, '');
    const receivedAt = new Date().toISOString();
    const input: RepairIncidentInput = {
      schemaVersion: 1,
      incidentId,
      alert: {
        schemaVersion: 1,
        alertId: createHash('sha256').update(`demo:${incidentId}`).digest('hex'),
        format: 'otlp-traces-json',
        receivedAt,
        sizeBytes: 0,
        serviceHint: 'users-api',
      },
      occurrences: 1,
      policy: { review: 'never' },
    };
    const workflowId = incidentWorkflowId(incidentId);
    const handle = await client.workflow.start(REPAIR_INCIDENT_WORKFLOW, {
      taskQueue: TASK_QUEUES.workflows,
      workflowId,
      args: [input],
      typedSearchAttributes: [{ key: searchAttributeKeys.service, value: 'users-api' }],
      staticSummary: 'tracemend demo incident (users-api)',
    });
    io.out(`started ${workflowId}\nwatch it: ${workflowUiUrl(config, workflowId)}`);
    const outcome = (await handle.result()) as IncidentOutcome;
    io.out(`outcome: ${outcome.outcome}: ${outcome.reason}`);
    for (const stage of outcome.stages) {
      io.out(`  ${stage.stage.padEnd(9)} ${stage.status.padEnd(9)} ${String(Math.round(stage.durationMs ?? 0)).padStart(6)} ms  ${stage.summary}`);
    }
    io.out(`Temporal UI: ${config.temporalUiUrl} (filter: TracemendService = "users-api")`);
    return 0;
  } finally {
    await connection.close();
  }
}
