// The sandbox runs tests without a network: a suite that reaches a real host fails there however good the
// patch is. These helpers find such an attempt in a run's output, so the verdict says what to change.

// Node's errors for a name that does not resolve and a route that does not exist, as printed
// (`getaddrinfo EAI_AGAIN api.example.com`, `connect ENETUNREACH 93.184.215.14:443`).
const LOOKUP = /\bgetaddrinfo (?:EAI_AGAIN|ENOTFOUND) ([^\s'"`)]+)/;
const UNREACHABLE = /\bconnect (?:ENETUNREACH|EHOSTUNREACH) ([^\s'"`)]+)/;
// A refused connection is a network attempt only off the loopback: a test's own local server may be down.
const REFUSED = /\bconnect ECONNREFUSED ([^\s'"`)]+)/g;
const LOOPBACK = /^(?:127\.|::1\b|\[::1\]|localhost\b|0\.0\.0\.0)/;
// node:test's TAP report drops an error's cause, so a failed fetch shows only undici's own message.
const FETCH_FAILED = /\bfetch failed\b/;

/** The host a run tried to reach over the network, from Node's error text; undefined when it tried none. */
export function networkAttempt(output: string): string | undefined {
  const lookup = LOOKUP.exec(output)?.[1] ?? UNREACHABLE.exec(output)?.[1];
  if (lookup !== undefined) return lookup;
  let loopbackRefused = false;
  for (const match of output.matchAll(REFUSED)) {
    const address = match[1] ?? '';
    if (!LOOPBACK.test(address)) return address;
    loopbackRefused = true;
  }
  return FETCH_FAILED.test(output) && !loopbackRefused ? 'a host (fetch failed)' : undefined;
}

/** `detail`, preceded by what to change when `output` shows the run trying to reach the network. */
export function withNetworkHint(detail: string, output: string): string {
  const host = networkAttempt(output);
  if (host === undefined) return detail;
  return `the tests tried to reach ${host} over the network, which the sandbox does not have: make them serve or stub that call (a local server on 127.0.0.1, or a mock), so they pass offline\n${detail}`;
}
