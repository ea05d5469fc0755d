// The gateway process: builds the evidence store and the Temporal client and serves alert intake.
import { Client, Connection } from '@temporalio/client';
import { createEvidenceStore } from '@tracemend/ingest';
import { createLogger } from '@tracemend/telemetry';
import { loadGatewayConfig } from './env';
import { createGateway } from './gateway';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger({ name: 'gateway', level: config.logLevel });
  // Lazy: the gateway starts (and /healthz reports) while Temporal is still coming up.
  const connection = Connection.lazy({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.namespace });
  const gateway = createGateway({
    store: createEvidenceStore(config.evidenceDir, config.evidenceKey === undefined ? {} : { key: config.evidenceKey }),
    client,
    namespace: config.namespace,
    token: config.token,
    ...(config.sentryKey ? { sentryKey: config.sentryKey } : {}),
    maxBodyBytes: config.maxBodyBytes,
    logger,
  });
  await gateway.listen(config.port, config.host);
  logger.info({ url: gateway.url, temporal: config.temporalAddress, namespace: config.namespace, evidenceDir: config.evidenceDir }, 'gateway started');

  const stop = (signal: string) => {
    logger.info({ signal }, 'gateway stopping');
    gateway
      .close()
      .then(() => connection.close())
      .catch((error: unknown) => logger.error({ err: { name: (error as Error).name } }, 'gateway did not stop cleanly'));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`tracemend gateway failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
