// Names, street addresses and postcodes inside free text (log messages, exception messages, notes):
// what a maintained NLP library finds of them, measured before the privacy gate adopts one. A seeded,
// labelled set of log-like lines plants one value per positive line; negative lines are the look-alikes
// service logs are full of (capitalised class and service names, cities, months, products). A line
// counts as found when a reported span overlaps the planted value; any report on a negative line is a
// false positive. Compared side by side: the gate's own detectors, and compromise (people, places).
import nlp from 'compromise';
import { detect } from '@tracemend/privacy-gate';
import { seededRandom } from '@tracemend/privacy-gate/testing/corpus';

type Kind = 'name' | 'address' | 'postcode';
interface Line {
  text: string;
  /** The planted value's span, absent on a negative line. */
  planted?: { kind: Kind; start: number; end: number };
  negative?: string;
}

const FIRST = ['Mara', 'Jonas', 'Aiko', 'Priya', 'Oluwaseun', 'Liam', 'Sofía', 'Mateusz', 'Chen', 'Fatima', 'Grace', 'Dmitri', 'Amara', 'Noah', 'Ingrid', 'Rahul', 'Zoë', 'Kwame', 'Elena', 'Tomás'];
const LAST = ['Lindqvist', 'Berg', 'Tanaka', 'Raghunathan', 'Adeyemi', "O'Brien", 'García', 'Kowalczyk', 'Wei', 'Haddad', 'Hopper', 'Volkov', 'Okafor', 'Schmidt', 'Johansson', 'Mehta', 'Dubois', 'Mensah', 'Rossi', 'Novák'];
const STREETS = ['Kastanienallee', 'Baker Street', 'Rue de Rivoli', 'Calle Mayor', 'Maple Avenue', 'Via Roma', 'Elm Street', 'Storgatan', 'Oak Lane', 'Market Street'];
const CITIES = [
  ['10435', 'Berlin'],
  ['NW1 6XE', 'London'],
  ['75001', 'Paris'],
  ['28013', 'Madrid'],
  ['94103', 'San Francisco, CA'],
  ['00184', 'Roma'],
  ['111 22', 'Stockholm'],
  ['02139', 'Cambridge, MA'],
] as const;

const NAME_TEMPLATES = [
  (v: string) => `checkout failed for customer ${v} after 3 retries`,
  (v: string) => `Hi ${v}, your return was received`,
  (v: string) => `ticket assigned to ${v} (support tier 2)`,
  (v: string) => `refund approved by ${v}`,
  (v: string) => `note: ${v} called about the late delivery`,
];
const ADDRESS_TEMPLATES = [
  (v: string) => `shipping label created for ${v}`,
  (v: string) => `address validation failed: ${v}`,
  (v: string) => `courier could not deliver to ${v}, retrying tomorrow`,
];
const POSTCODE_TEMPLATES = [(v: string) => `no carrier serves postcode ${v}`, (v: string) => `rate lookup zip=${v} returned no rates`];
const NEGATIVES: [string, string][] = [
  ['class and service names', 'TypeError in OrderService.createOrder while calling PaymentGateway'],
  ['framework words', 'Express Router matched GET /orders/:id in 3 ms'],
  ['cities and regions', 'deploy finished in Frankfurt and Dublin regions'],
  ['months and weekdays', 'billing cycle closes on Monday 1 December'],
  ['products', 'MacBook Pro 14 inch out of stock in warehouse North'],
  ['teams', 'paged the Platform Team on-call via PagerDuty'],
  ['queues and topics', 'message from Orders Topic moved to Dead Letter Queue'],
  ['sentence case', 'Retry budget exhausted; Giving up on Stripe webhook'],
  ['feature flags', 'flag Checkout Redesign enabled for Beta Users'],
  ['error messages', 'Cannot read properties of undefined (reading Street)'],
];

function corpus(perKind: number, seed: number): Line[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const lines: Line[] = [];
  const plant = (kind: Kind, value: string, template: (v: string) => string) => {
    const text = template(value);
    const start = text.indexOf(value);
    lines.push({ text, planted: { kind, start, end: start + value.length } });
  };
  for (let i = 0; i < perKind; i++) {
    plant('name', `${pick(FIRST)} ${pick(LAST)}`, pick(NAME_TEMPLATES));
    const [postcode, city] = pick(CITIES);
    plant('address', `${pick(STREETS)} ${1 + Math.floor(random() * 180)}, ${postcode} ${city}`, pick(ADDRESS_TEMPLATES));
    plant('postcode', postcode, pick(POSTCODE_TEMPLATES));
  }
  for (let i = 0; i < perKind; i++) {
    const [negative, text] = pick(NEGATIVES);
    lines.push({ text, negative });
  }
  return lines;
}

type Scanner = (text: string) => { start: number; end: number }[];

/** Spans of every match of the terms compromise returns (it reports text, not offsets). */
function spansOf(text: string, terms: readonly string[]): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  for (const term of terms) {
    const trimmed = term.replace(/[.,;:!?]+$/, '').trim();
    if (trimmed === '') continue;
    for (let at = text.indexOf(trimmed); at >= 0; at = text.indexOf(trimmed, at + 1)) spans.push({ start: at, end: at + trimmed.length });
  }
  return spans;
}

const SCANNERS: [string, Scanner][] = [
  ['gate detectors', (text) => detect(text).map((match) => ({ start: match.start, end: match.end }))],
  ['compromise people', (text) => spansOf(text, nlp(text).people().out('array') as string[])],
  ['compromise places', (text) => spansOf(text, nlp(text).places().out('array') as string[])],
  [
    'compromise people + places',
    (text) => {
      const doc = nlp(text);
      return spansOf(text, [...(doc.people().out('array') as string[]), ...(doc.places().out('array') as string[])]);
    },
  ],
];

const lines = corpus(Number(process.argv.find((arg) => arg.startsWith('--per-kind='))?.slice('--per-kind='.length) ?? 200), 20261208);
const kinds: Kind[] = ['name', 'address', 'postcode'];
const negativeKinds = [...new Set(NEGATIVES.map(([kind]) => kind))];
console.log(`free-text PII: ${lines.filter((line) => line.planted).length} planted values, ${lines.filter((line) => line.negative).length} negative lines (seed 20261208)\n`);
console.log(`| scanner                    | ${kinds.map((kind) => `${kind} recall`.padEnd(16)).join(' | ')} | false positives | lines/s |`);
console.log(`|----------------------------|${kinds.map(() => '-'.repeat(18)).join('|')}|-----------------|---------|`);
const falsePositiveKinds = new Map<string, Map<string, number>>();
for (const [name, scan] of SCANNERS) {
  const found = new Map<Kind, number>(kinds.map((kind) => [kind, 0]));
  let falsePositives = 0;
  const byKind = new Map<string, number>();
  const started = process.cpuUsage();
  for (const line of lines) {
    const spans = scan(line.text);
    if (line.planted) {
      const { kind, start, end } = line.planted;
      if (spans.some((span) => span.start < end && start < span.end)) found.set(kind, found.get(kind)! + 1);
    } else if (spans.length > 0) {
      falsePositives++;
      byKind.set(line.negative!, (byKind.get(line.negative!) ?? 0) + 1);
    }
  }
  const used = process.cpuUsage(started);
  falsePositiveKinds.set(name, byKind);
  const total = (kind: Kind) => lines.filter((line) => line.planted?.kind === kind).length;
  const negatives = lines.filter((line) => line.negative).length;
  const seconds = (used.user + used.system) / 1e6;
  console.log(
    `| ${name.padEnd(26)} | ${kinds.map((kind) => `${((100 * found.get(kind)!) / total(kind)).toFixed(1)} %`.padEnd(16)).join(' | ')} | ${`${((100 * falsePositives) / negatives).toFixed(1)} %`.padEnd(15)} | ${String(Math.round(lines.length / seconds)).padStart(7)} |`,
  );
}
console.log('\nfalse positives by negative kind:');
for (const [name, byKind] of falsePositiveKinds) {
  const parts = negativeKinds.filter((kind) => byKind.has(kind)).map((kind) => `${kind} ${byKind.get(kind)}`);
  console.log(`  ${name}: ${parts.length === 0 ? 'none' : parts.join(', ')}`);
}
