import { describe, expect, it } from 'vitest';
import { networkAttempt, withNetworkHint } from './network';

// Node's own messages, as a test runner prints them inside a failure.
const DNS_IN_SANDBOX = `TypeError: fetch failed
    at node:internal/deps/undici/undici:13502:13
  [cause]: Error: getaddrinfo EAI_AGAIN rates.example.com
      at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:120:26) {
    errno: -3001,
    code: 'EAI_AGAIN',
    syscall: 'getaddrinfo',
    hostname: 'rates.example.com'
  }`;

describe('networkAttempt', () => {
  it('names the host of a lookup or route that failed for want of a network', () => {
    expect(networkAttempt(DNS_IN_SANDBOX)).toBe('rates.example.com');
    expect(networkAttempt("Error: getaddrinfo ENOTFOUND registry.npmjs.org\n    at GetAddrInfoReqWrap.onlookup")).toBe('registry.npmjs.org');
    expect(networkAttempt('Error: connect ENETUNREACH 93.184.215.14:443 - Local (0.0.0.0:0)')).toBe('93.184.215.14:443');
    expect(networkAttempt("not ok 1 - pays out\n  error: 'connect ECONNREFUSED 203.0.113.7:5432'")).toBe('203.0.113.7:5432');
    // node:test's TAP report of a fetch in a container without a network: the cause naming the host is dropped.
    expect(networkAttempt("not ok 1 - reads the live exchange rate\n  ---\n  error: 'fetch failed'\n  name: 'TypeError'\n  stack: |-\n    node:internal/deps/undici/undici:14976:13")).toBe('a host (fetch failed)');
  });

  it('does not take a refused loopback connection or an ordinary failure for a network attempt', () => {
    expect(networkAttempt('Error: connect ECONNREFUSED 127.0.0.1:6379')).toBeUndefined();
    expect(networkAttempt('Error: connect ECONNREFUSED ::1:5432')).toBeUndefined();
    expect(networkAttempt("TypeError: fetch failed\n  [cause]: Error: connect ECONNREFUSED 127.0.0.1:8080")).toBeUndefined();
    expect(networkAttempt("TypeError: Cannot read properties of undefined (reading 'total')\n    at priceCart (/work/src/cart.js:41:17)")).toBeUndefined();
  });
});

describe('withNetworkHint', () => {
  it('says what to change before the detail, and leaves other details alone', () => {
    expect(withNetworkHint('3 passed, 1 failed', DNS_IN_SANDBOX)).toBe(
      'the tests tried to reach rates.example.com over the network, which the sandbox does not have: make them serve or stub that call (a local server on 127.0.0.1, or a mock), so they pass offline\n3 passed, 1 failed',
    );
    expect(withNetworkHint('3 passed, 1 failed', 'AssertionError: expected 2 to equal 3')).toBe('3 passed, 1 failed');
  });
});
