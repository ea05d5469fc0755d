// The in-container per-job limit, run as a worker thread of the replay harness. The harness posts
// `{ start: true, id, timeoutMs }` before a job and `{ start: false }` after it. The worker has its own event loop,
// so its timer fires even while a job blocks the harness's thread (a busy-wait, an endless loop); it
// then writes a timeout line for the job straight to fd 1 and SIGKILLs the whole process. The engine's
// init (the driver always sets it) is pid 1, so the harness is never pid 1 and the signal takes effect.
// The host's own per-job timer stays as a second line of defence; this one also holds when no host is
// left to enforce it (a worker that died while a job hung).
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { marker } = workerData;
let timer;

function expire(id, timeoutMs) {
  const line = `\n${marker}${JSON.stringify({ id, outcome: 'timeout', timeoutMs })}\n`;
  try {
    writeSync(1, line);
  } catch {
    // The host may already be gone; ending the process is what matters.
  }
  process.kill(process.pid, 'SIGKILL');
}

parentPort.on('message', (message) => {
  clearTimeout(timer);
  timer = undefined;
  if (message?.start === true && Number.isFinite(message.timeoutMs)) {
    timer = setTimeout(expire, message.timeoutMs, message.id ?? null, message.timeoutMs);
  }
});
