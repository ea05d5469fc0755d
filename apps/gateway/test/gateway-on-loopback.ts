// A gateway on loopback against the test run's Temporal dev server with no worker, over a fresh
// evidence folder; closing it terminates the incidents the test started and removes the folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createEvidenceStore, type EvidenceStore } from '@tracemend/ingest';
import { createLogger, type Logger } from '@tracemend/telemetry';
import { inject } from 'vitest';
import type {} from '@tracemend/testing/temporal-global-setup';
import { createGateway, type Gateway, type GatewayOptions } from '../src/index';

export interface GatewayOnLoopback {
  readonly gateway: Gateway;
  readonly client: Client;
  readonly store: EvidenceStore;
  readonly evidenceDir: string;
  /** Workflow ids the test saw started; `close` terminates them. */
  readonly workflowIds: Set<string>;
  close(): Promise<void>;
}

export type GatewayTestOptions = Omit<GatewayOptions, 'store' | 'client' | 'namespace' | 'logger'> & {
  /** Names the evidence folder. */
  readonly name: string;
  /** Silent unless given. */
  readonly logger?: Logger;
};

export async function startGatewayOnLoopback(options: GatewayTestOptions): Promise<GatewayOnLoopback> {
  const { name, logger, ...gatewayOptions } = options;
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const client = new Client({ connection, namespace: 'default' });
  const evidenceDir = await mkdtemp(join(tmpdir(), `gateway-${name}-`));
  const store = createEvidenceStore(evidenceDir);
  const gateway = createGateway({ ...gatewayOptions, store, client, namespace: 'default', logger: logger ?? createLogger({ name: 'gateway', level: 'silent' }) });
  await gateway.listen(0);
  const workflowIds = new Set<string>();
  return {
    gateway,
    client,
    store,
    evidenceDir,
    workflowIds,
    async close() {
      for (const workflowId of workflowIds) {
        await client.workflow
          .getHandle(workflowId)
          .terminate('gateway test finished')
          .catch(() => undefined);
      }
      await gateway.close();
      await connection.close();
      await rm(evidenceDir, { recursive: true, force: true });
    },
  };
}
