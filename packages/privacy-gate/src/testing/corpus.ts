/** One labelled line of JSON log or span text: a positive holds one value of `type` at [start, end). */
export interface CorpusSample {
  id: number;
  text: string;
  type: string;
  positive: boolean;
  start: number;
  end: number;
  /** Where the words that name the value begin (`SSN: `, `JSESSIONID=`); `start` when it needs none. */
  contextStart: number;
}

/** Types the positives cover, in table order. */
export const POSITIVE_TYPES = [
  'email',
  'phone',
  'card',
  'iban',
  'ipv4',
  'ipv6',
  'jwt',
  'pem-private-key',
  'aws-access-key',
  'aws-secret-key',
  'gcp-api-key',
  'gcp-service-account',
  'github-token',
  'slack-token',
  'slack-webhook',
  'stripe-key',
  'sendgrid-key',
  'twilio-key',
  'npm-token',
  'url-credentials',
  'session-id',
  'mailgun-key',
  'password-in-text',
  'ssn',
  'high-entropy',
] as const;

/** Mulberry32: a small seeded generator so every run produces the same corpus. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const URLSAFE = `${ALNUM}_-`;
const WORDS = ['order', 'cart', 'payment', 'user', 'profile', 'inventory', 'shipment', 'invoice', 'session', 'report'];
const FIRST = ['anna', 'jonas', 'li', 'maria', 'omar', 'sofia', 'erik', 'yuki', 'pablo', 'nina'];
const DOMAINS = ['posteo.de', 'gmail.com', 'corp.io', 'mail.co.uk', 'outlook.fr', 'web.se', 'proton.me'];

function generator(seed: number) {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  return { random, int, pick, chars };
}

type Gen = ReturnType<typeof generator>;

function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

function ibanCheck(country: string, bban: string): string {
  let remainder = 0;
  for (const char of `${bban}${country}00`) {
    const value = char >= 'A' ? String(char.charCodeAt(0) - 55) : char;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return String(98 - remainder).padStart(2, '0');
}

const IBAN_FORMATS: readonly [string, number][] = [
  ['DE', 18],
  ['FR', 23],
  ['GB', 18],
  ['NL', 14],
  ['ES', 20],
  ['IT', 23],
  ['SE', 20],
];

function iban(g: Gen, valid: boolean): string {
  const [country, length] = g.pick(IBAN_FORMATS);
  const bban = country === 'GB' || country === 'NL' ? g.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 4) + g.chars('0123456789', length - 4) : g.chars('0123456789', length);
  let check = ibanCheck(country, bban);
  if (!valid) check = String((Number(check) + 1 + g.int(90)) % 100).padStart(2, '0');
  const compact = `${country}${check}${bban}`;
  return g.random() < 0.5 ? compact : compact.replace(/(.{4})(?!$)/g, '$1 ');
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** A positive: the value alone, or the words that name it and the value (only the value must go). */
type Planted = string | readonly [context: string, value: string];

const CARD_PREFIXES = ['4', '51', '52', '37', '6011', '2221', '2500', '2720', '2200', '2204', '81', '82', '9792'];
const SESSION_NAMES = ['JSESSIONID', 'PHPSESSID', 'sessionid', 'session_id', 'connect.sid', 'sid', 'ASP.NET_SessionId'];
const PASSWORD_CONTEXTS = ['the new password is ', 'temporary password: ', 'pwd for admin was changed to ', 'passwords are ', 'Passcode reset to '];
const SSN_CONTEXTS = ['SSN: ', 'ssn ', 'taxpayer id ', 'social security number is ', '"ssn":"'];

function ssnDigits(g: Gen, separator: string): string {
  return `${String(1 + g.int(665)).padStart(3, '0')}${separator}${String(1 + g.int(98)).padStart(2, '0')}${separator}${String(1 + g.int(9998)).padStart(4, '0')}`;
}

const POSITIVE: Record<(typeof POSITIVE_TYPES)[number], (g: Gen) => Planted> = {
  email: (g) => `${g.pick(FIRST)}.${g.pick(FIRST)}${g.int(100)}@${g.pick(DOMAINS)}`,
  phone: (g) =>
    g.pick([
      () => `+46 7${g.int(10)} ${g.chars('0123456789', 3)} ${g.chars('0123456789', 2)} ${g.chars('0123456789', 2)}`,
      () => `+44 20 ${g.chars('0123456789', 4)} ${g.chars('0123456789', 4)}`,
      () => `+49${g.chars('123456789', 1)}${g.chars('0123456789', 9)}`,
      () => `+1 (${g.chars('23456789', 1)}${g.chars('0123456789', 2)}) ${g.chars('23456789', 1)}${g.chars('0123456789', 2)}-${g.chars('0123456789', 4)}`,
    ])(),
  card: (g) => {
    const prefix = g.pick(CARD_PREFIXES);
    const trimmed = (prefix + g.chars('0123456789', 15)).slice(0, 15);
    const number = trimmed + luhnDigit(trimmed);
    return g.random() < 0.5 ? number : number.replace(/(\d{4})(?!$)/g, '$1 ');
  },
  iban: (g) => iban(g, true),
  ipv4: (g) => `${g.pick([31, 46, 81, 88, 151, 185, 212])}.${g.int(256)}.${g.int(256)}.${1 + g.int(254)}`,
  ipv6: (g) =>
    g.random() < 0.5
      ? `2a0${g.int(10)}:${Array.from({ length: 7 }, () => g.chars(HEX, 1 + g.int(4))).join(':')}`
      : `2a00:${g.chars(HEX, 4)}:${g.chars(HEX, 4)}::${g.chars(HEX, 3)}${g.chars('123456789abcdef', 1)}`,
  jwt: (g) =>
    `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify({ sub: g.chars(HEX, 12), iat: 1763636624 + g.int(1e6) }))}.${g.chars(URLSAFE, 43)}`,
  'pem-private-key': (g) =>
    `-----BEGIN ${g.pick(['RSA ', 'EC ', '', 'OPENSSH '])}PRIVATE KEY-----\\n${g.chars(B64, 64)}\\n${g.chars(B64, 40)}\\n-----END PRIVATE KEY-----`,
  'aws-access-key': (g) => `${g.pick(['AKIA', 'ASIA'])}${g.chars(UPPER_DIGITS, 16)}`,
  'aws-secret-key': (g) => `aws_secret_access_key=${g.chars(`${ALNUM}/+`, 40)}`,
  'gcp-api-key': (g) => `AIza${g.chars(URLSAFE, 35)}`,
  'gcp-service-account': (g) =>
    `{\\"type\\":\\"service_account\\",\\"private_key_id\\":\\"${g.chars(HEX, 40)}\\",\\"private_key\\":\\"-----BEGIN PRIVATE KEY-----\\\\n${g.chars(B64, 64)}\\\\n-----END PRIVATE KEY-----\\\\n\\"}`,
  'github-token': (g) => (g.random() < 0.5 ? `${g.pick(['ghp', 'gho', 'ghs'])}_${g.chars(ALNUM, 36)}` : `github_pat_11${g.chars(UPPER_DIGITS, 20)}_${g.chars(ALNUM, 59)}`),
  'slack-token': (g) => `xox${g.pick(['b', 'p'])}-${g.chars('0123456789', 12)}-${g.chars('0123456789', 13)}-${g.chars(ALNUM, 24)}`,
  'slack-webhook': (g) => `https://hooks.slack.com/services/T${g.chars(UPPER_DIGITS, 8)}/B${g.chars(UPPER_DIGITS, 10)}/${g.chars(ALNUM, 24)}`,
  'stripe-key': (g) => `${g.pick(['sk_live_', 'rk_live_', 'sk_test_'])}${g.chars(ALNUM, 24 + g.int(76))}`,
  'sendgrid-key': (g) => `SG.${g.chars(URLSAFE, 22)}.${g.chars(URLSAFE, 43)}`,
  'twilio-key': (g) => `SK${g.chars(HEX, 32)}`,
  'npm-token': (g) => `npm_${g.chars(ALNUM, 36)}`,
  'url-credentials': (g) =>
    `${g.pick(['postgres', 'mysql', 'https', 'amqp', 'redis'])}://${g.pick(FIRST)}:${g.chars(ALNUM, 8 + g.int(16))}@${g.pick(WORDS)}.db.${g.pick(['example.net', 'corp.io'])}:5432/${g.pick(WORDS)}`,
  'session-id': (g) => [`${g.pick(SESSION_NAMES)}=`, g.random() < 0.5 ? g.chars('0123456789ABCDEF', 32) : g.chars(URLSAFE, 24 + g.int(20))],
  'mailgun-key': (g) => `key-${g.chars('0123456789abcdefghijklmnopqrstuvwxyz', 32)}`,
  'password-in-text': (g) => [
    g.pick(PASSWORD_CONTEXTS),
    `${g.pick(['Summer', 'Winter', 'hunter', 'Tr0ub4dor', 'Kaffee', 'welcome'])}${g.chars('0123456789', 2 + g.int(3))}${g.pick(['!', '?', '#', '&', ''])}`,
  ],
  // Dashed anywhere; with spaces or none only after a word that names it.
  ssn: (g) => (g.random() < 0.5 ? ssnDigits(g, '-') : [g.pick(SSN_CONTEXTS), ssnDigits(g, g.pick(['', ' ']))]),
  'high-entropy': (g) => `${g.chars(ALNUM, 32 + g.int(16))}`,
};

const NEGATIVE: Record<string, (g: Gen) => string> = {
  uuid: (g) => `${g.chars(HEX, 8)}-${g.chars(HEX, 4)}-4${g.chars(HEX, 3)}-${g.pick(['8', '9', 'a', 'b'])}${g.chars(HEX, 3)}-${g.chars(HEX, 12)}`,
  'git-sha': (g) => g.chars(HEX, 40),
  sha256: (g) => `sha256:${g.chars(HEX, 64)}`,
  version: (g) => `${g.int(30)}.${g.int(40)}.${g.int(20)}${g.pick(['', '-beta.1', '-rc.2+build.7', ''])}`,
  'iso-date': (g) => `2026-${String(1 + g.int(12)).padStart(2, '0')}-${String(1 + g.int(28)).padStart(2, '0')}T${String(g.int(24)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')}.${g.chars('0123456789', 3)}Z`,
  'base64-words': (g) => Buffer.from(`${g.pick(WORDS)} ${g.pick(WORDS)}`).toString('base64'),
  'card-bad-luhn': (g) => {
    const body = `4${g.chars('0123456789', 14)}`;
    return body + String((Number(luhnDigit(body)) + 1 + g.int(9)) % 10);
  },
  'iban-bad-check': (g) => iban(g, false),
  'tracking-id': (g) => `${g.pick(['req', 'trace', 'span', 'job'])}_${g.chars(HEX, 16)}`,
  'route-template': (g) => `/v1/${g.pick(WORDS)}/:${g.pick(WORDS)}Id/${g.pick(WORDS)}s`,
  'doc-ip': (g) => g.pick([`192.0.2.${g.int(256)}`, `198.51.100.${g.int(256)}`, `203.0.113.${g.int(256)}`, '127.0.0.1', '::1', `2001:db8::${g.chars(HEX, 3)}1`]),
  'invalid-ssn': (g) => `${g.pick(['000', '666', `9${g.chars('0123456789', 2)}`])}-${String(1 + g.int(98)).padStart(2, '0')}-${String(1 + g.int(9998)).padStart(4, '0')}`,
  'clock-time': (g) => `${String(g.int(24)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')}`,
  'epoch-ms': (g) => String(1763636624981 + g.int(1e9)),
  identifier: (g) => `${g.pick(['process', 'handle', 'normalize', 'refresh'])}${g.pick(['Order', 'Cart', 'Ticks'])}${g.pick(['AndRejections', 'Preferences', 'LeaderboardJob'])}Factory`,
  'source-location': (g) => `/srv/app/src/${g.pick(WORDS)}.ts:${1 + g.int(400)}:${1 + g.int(80)}`,
  'sri-hash': (g) => `sha512-${Buffer.from(g.chars(HEX, 64), 'hex').toString('base64')}`,
  // Luhn-valid or not, 16 digits outside every card range.
  'order-number': (g) => {
    const prefix = g.pick(['7', '80', '83', '90', '95']);
    return `${prefix}${g.chars('0123456789', 16 - prefix.length)}`;
  },
  'nine-digit-id': (g) => `${g.pick(['order', 'ticket', 'invoice'])} ${ssnDigits(g, '')}`,
  'password-message': (g) => g.pick(['password is required', 'the password was reset', 'password is too short', 'pin is 12', 'session_id=42']),
};

function wrap(g: Gen, value: string): { text: string; start: number } {
  const service = g.pick(WORDS);
  const prefix = g.pick([
    `{"level":"error","service":"${service}-api","msg":"request failed for `,
    `{"name":"${service}.update","attributes":{"db.statement":"update ${service} set x=1 where v='`,
    `{"level":"warn","time":"2026-11-20T11:03:44.981Z","msg":"retrying ${service} call with `,
    `{"logs":[{"body":"upstream rejected value `,
  ]);
  const suffix = g.pick([`","status":500}`, `'"}}`, ` (attempt ${1 + g.int(5)})"}`, `"}]}`]);
  return { text: `${prefix}${value}${suffix}`, start: prefix.length };
}

/** Builds the corpus: `positivesPerType` lines for each positive type, then `negatives` hard negatives, all from `seed`. */
export function buildCorpus(options: { seed?: number; positivesPerType?: number; negatives?: number } = {}): CorpusSample[] {
  const g = generator(options.seed ?? 20261122);
  const perType = options.positivesPerType ?? 100;
  const negatives = options.negatives ?? 2200;
  const samples: CorpusSample[] = [];
  for (const type of POSITIVE_TYPES) {
    for (let i = 0; i < perType; i++) {
      const planted = POSITIVE[type](g);
      const [context, value] = typeof planted === 'string' ? ['', planted] : planted;
      const { text, start } = wrap(g, `${context}${value}`);
      samples.push({ id: samples.length, text, type, positive: true, start: start + context.length, end: start + context.length + value.length, contextStart: start });
    }
  }
  const kinds = Object.keys(NEGATIVE);
  for (let i = 0; i < negatives; i++) {
    const type = kinds[i % kinds.length] as string;
    const value = (NEGATIVE[type] as (gen: Gen) => string)(g);
    const { text, start } = wrap(g, value);
    samples.push({ id: samples.length, text, type, positive: false, start, end: start + value.length, contextStart: start });
  }
  return samples;
}
