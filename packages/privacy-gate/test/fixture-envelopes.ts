// Ungated envelopes of the three fixture services, as ingest would hand them to the gate, with the
// raw personal data and secrets each one carries listed so tests can prove none survives.
import type { FailureEnvelope } from '@tracemend/contracts';

const AT = '2026-11-20T11:03:45.120Z';
const SHA = '4f9cbcb0ae4ccc89df59b14ea6af829e231f18b3';
const STRIPE_KEY = 'sk_live_51NfT8qL2bX9vK3mQ7pR4sW6yZ0aC5dE8';

export interface FixtureCase {
  service: string;
  envelope: FailureEnvelope;
  /** Raw values that must not appear anywhere in the gated output. */
  raw: string[];
}

function base(service: string, traceId: string): Omit<FailureEnvelope, 'symptom' | 'entry' | 'spans' | 'logs' | 'downstream'> {
  return {
    schemaVersion: 1,
    identity: {
      fingerprint: '9a1c0e4f2b7d3c5a',
      traceId,
      spanId: '00f067aa0ba902b7',
      service,
      version: SHA,
      environment: 'production',
      firstSeen: AT,
      lastSeen: AT,
      occurrences: 3,
    },
    environment: {
      featureFlags: { newSignup: true },
      env: { NODE_ENV: 'production' },
      locale: 'sv-SE',
      timezone: 'Europe/Stockholm',
      runtime: { name: 'node', version: '20.20.2' },
    },
    timing: { recordedAt: AT, durationMs: 12.5 },
    provenance: {
      sources: [{ alertId: 'c0ffee00c0ffee00c0ffee00', format: 'otlp-traces-json', receivedAt: AT, items: 3 }],
      notes: [],
    },
  };
}

function span(traceId: string, name: string, attributes: FailureEnvelope['spans'][number]['attributes'], message?: string) {
  return {
    traceId,
    spanId: '00f067aa0ba902b7',
    name,
    kind: 'server' as const,
    service: 'svc',
    startTime: AT,
    endTime: AT,
    status: message === undefined ? { code: 'ok' as const } : { code: 'error' as const, message },
    attributes,
  };
}

/** users-api: POST /v1/users with a missing `preferences.marketing`. */
export function usersApiCase(): FixtureCase {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const message = "Cannot read properties of undefined (reading 'push') while creating mara.lindqvist@corp-mail.se";
  return {
    service: 'users-api',
    raw: [
      'Mara Lindqvist',
      'mara.lindqvist@corp-mail.se',
      '+46701234567',
      '+46 70 123 45 67',
      STRIPE_KEY,
      'sess_7Yt2pQ9xLm4Kd8Rv',
      '81.224.17.5',
      'AcmeShop-iOS/5.12.0',
      'secret-referral-note',
    ],
    envelope: {
      ...base('users-api', traceId),
      symptom: {
        errorType: 'TypeError',
        message,
        messageHash: '5d41402abc4b2a76',
        frames: [{ file: 'src/users.ts', line: 58, column: 14, function: 'normalizePreferences', inApp: true }],
      },
      entry: {
        kind: 'http',
        method: 'POST',
        route: '/v1/users',
        path: '/v1/users',
        query: { ref: 'secret-referral-note' },
        headers: {
          Authorization: `Bearer ${STRIPE_KEY}`,
          'content-type': 'application/json',
          'user-agent': 'AcmeShop-iOS/5.12.0 (iPhone15,2; iOS 18.1)',
          'x-forwarded-for': '81.224.17.5',
          cookie: 'sid=sess_7Yt2pQ9xLm4Kd8Rv',
        },
        body: {
          name: 'Mara Lindqvist',
          email: 'mara.lindqvist@corp-mail.se',
          phone: '+46701234567',
          preferences: { newsletter: true, locale: 'sv-SE' },
          plan: 'pro',
          referrer: { code: 'secret-referral-note' },
        },
      },
      downstream: [],
      spans: [
        span(
          traceId,
          'POST /v1/users',
          {
            'http.request.method': 'POST',
            'http.route': '/v1/users',
            'http.response.status_code': 500,
            'client.address': '81.224.17.5',
            'user_agent.original': 'AcmeShop-iOS/5.12.0 (iPhone15,2; iOS 18.1)',
            'http.request.header.authorization': [`Bearer ${STRIPE_KEY}`],
            'exception.message': message,
            'tracemend.input.body': '{"name":"Mara Lindqvist","email":"mara.lindqvist@corp-mail.se","phone":"+46701234567"}',
          },
          message,
        ),
      ],
      logs: [
        {
          timestamp: AT,
          severity: 'error',
          body: `request failed for caller +46 70 123 45 67 using key ${STRIPE_KEY}`,
          traceId,
          attributes: { 'url.path': '/v1/users', 'enduser.name': 'Mara Lindqvist' },
        },
      ],
    },
  };
}

/** leaderboard: topUsers over a snapshot holding a user list. */
export function leaderboardCase(): FixtureCase {
  const traceId = '5cf92f3577b34da6a3ce929d0e0e4737';
  return {
    service: 'leaderboard',
    raw: ['Oskar Nyberg', 'oskar.nyberg@nordmail.se', 'usr_4821', 'nova_the_great', 'quill_ab', 'u-10001', 'u-10002'],
    envelope: {
      ...base('leaderboard', traceId),
      symptom: {
        errorType: 'TypeError',
        message: "Cannot read properties of null (reading 'sort')",
        messageHash: '6e41402abc4b2a76',
        frames: [{ file: 'src/leaderboard.ts', line: 34, column: 6, function: 'topUsers', inApp: true }],
      },
      entry: {
        kind: 'function',
        module: 'src/leaderboard.ts',
        export: 'topUsers',
        args: [
          {
            $stub: {
              get: {
                active_users: [
                  { id: 'u-10001', displayName: 'nova_the_great', score: 120, lastActiveAt: '2026-03-01T10:00:00Z', email: 'nova@nordmail.se' },
                  { id: 'u-10002', displayName: 'quill_ab', score: 340, lastActiveAt: '2026-03-01T09:00:00Z' },
                ],
              },
            },
          },
          10,
        ],
      },
      downstream: [],
      spans: [
        span(traceId, 'leaderboard.refresh', {
          'job.name': 'leaderboard-refresh',
          'enduser.id': 'usr_4821',
          'user.email': 'oskar.nyberg@nordmail.se',
          'user.full_name': 'Oskar Nyberg',
          'db.response.body': '[{"id":"u-10001","displayName":"nova_the_great"}]',
        }),
      ],
      logs: [{ timestamp: AT, severity: 'error', body: 'leaderboard refresh failed', attributes: { 'leaderboard.k': 10 } }],
    },
  };
}

/** checkout-worker: an `orders.created` message and an inventory 404. */
export function checkoutWorkerCase(): FixtureCase {
  const traceId = '6df92f3577b34da6a3ce929d0e0e4738';
  const payment = 'pm_tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  return {
    service: 'checkout-worker',
    raw: [
      'Jonas Berger',
      'jonas.berger@posteo.de',
      'Kastanienallee 12',
      '10435',
      payment,
      'ord_20261120_88412',
      '+49 30 1234567',
      'xoxb-1234567890-abcdefghij',
      '4111 1111 1111 1111',
    ],
    envelope: {
      ...base('checkout-worker', traceId),
      symptom: {
        errorType: 'TypeError',
        message: "Cannot read properties of undefined (reading 'length')",
        messageHash: '7f41402abc4b2a76',
        frames: [{ file: 'src/handler.ts', line: 21, column: 20, function: 'priceWithInventory', inApp: true }],
      },
      entry: {
        kind: 'message',
        module: 'src/handler.ts',
        export: 'handleOrderMessage',
        topic: 'orders.created',
        payload: {
          id: 'b7e3f1a2-9c4d-4e5f-8a6b-1c2d3e4f5a6b',
          topic: 'orders.created',
          publishedAt: '2026-11-20T11:03:44.981Z',
          order: {
            orderId: 'ord_20261120_88412',
            currency: 'EUR',
            customer: {
              name: 'Jonas Berger',
              email: 'jonas.berger@posteo.de',
              phone: '+49 30 1234567',
              address: { line1: 'Kastanienallee 12', city: 'Berlin', postalCode: '10435', country: 'DE' },
            },
            payment: { token: payment, card: '4111 1111 1111 1111' },
            lines: [
              { sku: 'LAMP-7', quantity: 1, unitPriceCents: 4900 },
              { sku: 'DESK-19', quantity: 1, unitPriceCents: 32900 },
            ],
          },
        },
      },
      environment: {
        featureFlags: { newPricing: true },
        env: { INVENTORY_URL: 'http://inventory.internal:8080', SLACK_WEBHOOK_TOKEN: 'xoxb-1234567890-abcdefghij' },
        runtime: { name: 'node', version: '20.20.2' },
      },
      downstream: [
        {
          method: 'GET',
          urlTemplate: '/v1/inventory/{sku}',
          url: 'http://inventory.internal:8080/v1/inventory/DESK-19',
          status: 404,
          responseHeaders: { 'content-type': 'application/json', 'set-cookie': 'inv=abc123def456' },
          responseBody: { error: 'sku_not_found', sku: 'DESK-19' },
        },
      ],
      spans: [
        span(traceId, 'process orders.created', {
          'messaging.destination.name': 'orders.created',
          'messaging.kafka.message.key': 'ord_20261120_88412',
          'feature_flag.newPricing': true,
          'tracemend.input.payload': `{"order":{"customer":{"name":"Jonas Berger"},"payment":{"token":"${payment}"}}}`,
        }),
      ],
      logs: [
        {
          timestamp: AT,
          severity: 'error',
          body: 'message processing failed for order ord_20261120_88412, customer jonas.berger@posteo.de',
          attributes: { 'messaging.destination.name': 'orders.created', 'customer.name': 'Jonas Berger' },
        },
      ],
    },
  };
}
