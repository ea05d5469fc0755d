// A seeded stream of OTLP/JSON trace exports for a few synthetic bugs, each occurrence carrying the
// noise real alerts of one bug carry: other ids, numbers, quoted values, UUIDs and emails in the
// message, other trace and span ids, other versions whose lines shifted, library and runtime frames
// in between, another deploy root, recursion of varying depth.
import type { OtlpKeyValue, OtlpSpan, OtlpTraces } from '../otlp';

/** One synthetic bug: where it throws and how its message varies. */
export interface SyntheticBug {
  id: string;
  service: string;
  errorType: string;
  /** In-app frames, top first: function and repository path. */
  frames: readonly { function: string; file: string }[];
  /** How often the top frame repeats itself (a recursive function), inclusive range. */
  recursion?: readonly [number, number];
  entry: 'http' | 'message';
  message: (random: Random) => string;
}

/** One generated alert and the bug it is an occurrence of. */
export interface StreamAlert {
  bug: string;
  body: OtlpTraces;
}

/** A small deterministic PRNG (mulberry32), so a failing stream can be regenerated from its seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.int(0, 15).toString(16);
    return out;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${this.hex(3)}-${this.hex(12)}`;
  }
  email(): string {
    return `${this.pick(['ana', 'mara.lindqvist', 'j.doe', 'ops+alerts'])}${this.int(1, 999)}@${this.pick(['example.com', 'mail.example.org', 'acme-shop.example'])}`;
  }
}

/** Five bugs: four services, two of them sharing service and error type but not frames. */
export const SYNTHETIC_BUGS: readonly SyntheticBug[] = [
  {
    id: 'users-push-undefined',
    service: 'users-api',
    errorType: 'TypeError',
    frames: [
      { function: 'normalizePreferences', file: 'src/users.ts' },
      { function: 'createUser', file: 'src/app.ts' },
      { function: 'handleCreateUser', file: 'src/routes.ts' },
    ],
    entry: 'http',
    message: () => "Cannot read properties of undefined (reading 'push')",
  },
  {
    id: 'users-session-null',
    service: 'users-api',
    errorType: 'TypeError',
    frames: [
      { function: 'loadSession', file: 'src/session.ts' },
      { function: 'authenticate', file: 'src/auth.ts' },
      { function: 'handleCreateUser', file: 'src/routes.ts' },
    ],
    entry: 'http',
    message: (random) => `Cannot read properties of null (reading 'id') for session ${random.uuid()}`,
  },
  {
    id: 'checkout-currency',
    service: 'checkout-worker',
    errorType: 'RangeError',
    frames: [
      { function: 'formatAmount', file: 'src/money.ts' },
      { function: 'chargeOrder', file: 'src/checkout.ts' },
      { function: 'onOrderPlaced', file: 'src/consumer.ts' },
    ],
    entry: 'message',
    message: (random) => `Invalid currency code "${random.pick(['XBT', 'EURO', 'usd', ''])}" for order ${random.int(1, 999_999)} of ${random.email()}`,
  },
  {
    id: 'leaderboard-rank-overflow',
    service: 'leaderboard',
    errorType: 'RangeError',
    frames: [
      { function: 'rankBucket', file: 'src/rank.ts' },
      { function: 'rankPlayers', file: 'src/rank.ts' },
      { function: 'getLeaderboard', file: 'src/routes.ts' },
    ],
    recursion: [1, 7],
    entry: 'http',
    message: (random) => `score ${random.int(0, 1e9)} out of range [${random.int(0, 10)}, ${random.int(100, 10_000)}] for player ${random.uuid()} in season '${random.pick(['s1', '2026-q3', 'winter cup'])}'`,
  },
  {
    id: 'billing-customer-email',
    service: 'billing-api',
    errorType: 'ValidationError',
    frames: [
      { function: 'validateCustomer', file: 'src/customers.ts' },
      { function: 'createInvoice', file: 'src/invoices.ts' },
    ],
    entry: 'http',
    message: (random) => `invalid email "${random.email()}" for customer '${random.pick(['c_', 'cus_', ''])}${random.hex(10)}' (attempt ${random.int(1, 5)} of ${random.int(5, 9)})`,
  },
];

const VERSIONS = ['1.4.0', '1.4.1', '1.5.0', '2.0.0-rc.1', '0b6c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c'] as const;
const APP_ROOTS = ['/srv/app/', '/usr/src/app/', '/app/'] as const;
const LIBRARY_FRAMES = [
  '    at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)',
  '    at next (/srv/app/node_modules/express/lib/router/route.js:149:13)',
  '    at Array.forEach (<anonymous>)',
  '    at Object.parse (/usr/src/app/node_modules/zod/v4/classic/parse.js:12:7)',
  '    at AsyncLocalStorage.run (node:async_hooks:346:14)',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
] as const;

function attribute(key: string, value: string | number): OtlpKeyValue {
  return { key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } };
}

function stackTrace(bug: SyntheticBug, random: Random, errorType: string, message: string): string {
  const root = random.pick(APP_ROOTS);
  const shift = random.int(-40, 40);
  const inApp = bug.frames.flatMap((frame, index) => {
    const repeats = index === 0 && bug.recursion ? random.int(bug.recursion[0], bug.recursion[1]) : 1;
    return Array.from({ length: repeats }, () => {
      const line = Math.max(1, 20 + index * 17 + shift + random.int(0, 3));
      const file = random.next() < 0.3 ? `file://${root}${frame.file}` : `${root}${frame.file}`;
      const fn = index > 0 && random.next() < 0.5 ? `async ${frame.function}` : frame.function;
      return `    at ${fn} (${file}:${line}:${random.int(1, 80)})`;
    });
  });
  const lines: string[] = [];
  // A library frame may sit above the first in-app frame (a callback from a dependency).
  if (random.next() < 0.3) lines.push(random.pick(LIBRARY_FRAMES));
  for (const frame of inApp) {
    lines.push(frame);
    if (random.next() < 0.25) lines.push(random.pick(LIBRARY_FRAMES));
  }
  for (let extra = random.int(0, 4); extra > 0; extra -= 1) lines.push(random.pick(LIBRARY_FRAMES));
  return [`${errorType}: ${message}`, ...lines].join('\n');
}

function occurrence(bug: SyntheticBug, random: Random, startNanos: bigint): OtlpTraces {
  const traceId = random.hex(32);
  const rootId = random.hex(16);
  const childId = random.hex(16);
  const message = bug.message(random);
  const durationNanos = BigInt(random.int(1, 900)) * 1_000_000n;
  const root: OtlpSpan =
    bug.entry === 'http'
      ? {
          traceId,
          spanId: rootId,
          name: `POST /v1/${bug.service}/${random.int(1, 10_000)}`,
          kind: 2,
          startTimeUnixNano: String(startNanos),
          endTimeUnixNano: String(startNanos + durationNanos),
          attributes: [attribute('http.request.method', 'POST'), attribute('http.route', `/v1/${bug.service}/:id`), attribute('url.path', `/v1/${bug.service}/${random.int(1, 10_000)}`), attribute('http.response.status_code', 500)],
          status: { code: 2 },
        }
      : {
          traceId,
          spanId: rootId,
          name: 'orders.placed process',
          kind: 5,
          startTimeUnixNano: String(startNanos),
          endTimeUnixNano: String(startNanos + durationNanos),
          attributes: [attribute('messaging.destination.name', 'orders.placed'), attribute('messaging.message.id', random.uuid())],
          status: { code: 2 },
        };
  const failing: OtlpSpan = {
    traceId,
    spanId: childId,
    parentSpanId: rootId,
    name: bug.frames[0]?.function ?? 'handler',
    kind: 1,
    startTimeUnixNano: String(startNanos + 1_000_000n),
    endTimeUnixNano: String(startNanos + durationNanos),
    attributes: [attribute('request.id', random.hex(12)), attribute('user.email', random.email())],
    events: [
      {
        name: 'exception',
        timeUnixNano: String(startNanos + 2_000_000n),
        attributes: [attribute('exception.type', bug.errorType), attribute('exception.message', message), attribute('exception.stacktrace', stackTrace(bug, random, bug.errorType, message))],
      },
    ],
    status: { code: 2, message },
  };
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            attribute('service.name', bug.service),
            attribute('service.version', random.pick(VERSIONS)),
            attribute('deployment.environment.name', random.pick(['production', 'staging'])),
            attribute('host.name', `${bug.service}-${random.hex(6)}`),
            attribute('process.pid', random.int(1, 65_535)),
          ],
        },
        scopeSpans: [{ spans: random.next() < 0.5 ? [root, failing] : [failing, root] }],
      },
    ],
  };
}

/** `count` alerts spread over `bugs` in a seeded random order. */
export function generateAlertStream(options: { count: number; seed: number; bugs?: readonly SyntheticBug[] }): StreamAlert[] {
  const bugs = options.bugs ?? SYNTHETIC_BUGS;
  const random = new Random(options.seed);
  let start = 1_795_176_000_000_000_000n;
  return Array.from({ length: options.count }, () => {
    const bug = random.pick(bugs);
    start += BigInt(random.int(1, 60_000)) * 1_000_000n;
    return { bug: bug.id, body: occurrence(bug, random, start) };
  });
}
