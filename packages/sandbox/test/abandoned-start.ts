// Starts one sandbox process through the driver, prints its container id and then waits to be killed.
// A test kills this process with SIGKILL, so nothing on the host is left to stop the container: only
// the timeout inside the container can end it.
import { createLogger } from '@tracemend/telemetry';
import { DockerSandboxDriver } from '../src/docker-driver';
import { DEFAULT_RUN_LIMITS } from '../src/driver';

const [image = '', workDir = '', timeoutMs = '', label = ''] = process.argv.slice(2);
const driver = new DockerSandboxDriver({ logger: createLogger({ name: 'abandoned-start', level: 'silent' }) });
const child = await driver.start({
  image,
  workDir,
  env: {},
  ...DEFAULT_RUN_LIMITS,
  timeoutMs: Number(timeoutMs),
  labels: { 'tracemend.incident': label },
  command: ['node', '-e', 'for (;;) {}'],
});
process.stdout.write(`${child.containerId}\n`);
setInterval(() => undefined, 60_000);
