import { contentHash, isJsonObject, type JsonValue } from './canonical';
import { reduce } from './ddmin';
import { BudgetExhausted, CachedJudge, type Judge, type JudgeStats } from './judge';

/** A position in a JSON value: object keys and array indices from the root. */
export type JsonPath = (string | number)[];

/** Options of `minimizeJson` and `minimizeRecord`. */
export interface MinimizeOptions {
  /** Most candidates to judge (cache misses); when spent, the smallest failing candidate so far is returned. */
  maxTests?: number;
  /** Name of the root in `steps`, e.g. `body` gives "removed body.name". */
  label?: string;
  /** Called once per judged candidate with its verdict. */
  onJudgement?: (candidate: JsonValue, stillFails: boolean) => void;
}

/** Options of `minimizeJson`. */
export interface MinimizeJsonOptions extends MinimizeOptions {
  /** Run the scalar simplification pass after the structural one (default true; off under `keepFields`). */
  simplify?: boolean;
  /**
   * For an input a test replays: every scalar member of an object that stays keeps its recorded value,
   * members holding objects or arrays stay when their key is one of `named` (the names the service's
   * code uses, `namesInCode`), and nothing is simplified. Only array items and subtrees the code never
   * names are removed, so what stays is what production sent, and a correct fix that reads a field the
   * crash did not need (a drop-off's `receivedAt`, its order's `deliveredAt`) passes on it. See
   * docs/adr/0011.
   */
  keepFields?: { named: ReadonlySet<string> };
}

/** What a JSON minimization found and what it cost. */
export interface MinimizeJsonResult<V extends JsonValue = JsonValue> extends JudgeStats {
  /** A candidate the judge says still fails; no smaller one is reachable by the steps tried unless `exhausted`. */
  minimal: V;
  /** What was removed or simplified, in order, as readable paths (positions as they were at that step). */
  steps: string[];
}

/**
 * Hierarchical delta debugging over a JSON value: object keys and array items level by level from the
 * top (each level reduced with ddmin while deeper levels stay as they are), then scalar simplification
 * (containers to empty, strings to '' or a shorter prefix, numbers to 0 or closer to 0, true to false),
 * each change kept only when the judge says the candidate still fails. `value` itself must fail. Judge
 * calls are cached by the canonical JSON hash of the candidate.
 */
export async function minimizeJson(
  value: JsonValue,
  judge: Judge<JsonValue>,
  options: MinimizeJsonOptions = {},
): Promise<MinimizeJsonResult> {
  const cached = createJudge(judge, options);
  const label = options.label ?? '';
  const steps: string[] = [];
  let current = value;
  try {
    // HDD*: repeat both passes until a round changes nothing, so that no single removal or
    // simplification of the result still fails, even when the failure is not monotone.
    for (;;) {
      const before = current;
      current = await removeLevelByLevel(current, cached, label, steps, options.keepFields);
      if (options.keepFields === undefined && (options.simplify ?? true)) current = await new Simplifier(current, cached, label, steps).run();
      if (current === before) break;
    }
  } catch (error) {
    if (!(error instanceof Stopped)) throw error;
    current = error.current;
  }
  return { minimal: current, steps, ...cached.stats() };
}

/**
 * Keys that say how a sibling is encoded (`isBase64Encoded` beside an API Gateway event's `body`,
 * `contentEncoding`). Without them the sibling means something else: a base64 body read as JSON fails
 * for another reason than the recorded one, and a test minimized that way fails with the real fix too.
 * They are never removed or simplified while their object exists.
 */
export const ENCODING_QUALIFIERS: ReadonlySet<string> = new Set(['isBase64Encoded', 'contentEncoding', 'content-encoding', 'contentTransferEncoding', 'encoding']);

function isQualifier(path: JsonPath): boolean {
  const key = path[path.length - 1];
  return typeof key === 'string' && ENCODING_QUALIFIERS.has(key);
}

/** Whether the object holding `path` carries an encoding qualifier that is set (its strings are encoded data). */
function hasEncodedSiblings(value: JsonValue, path: JsonPath): boolean {
  const parent = getAt(value, path.slice(0, -1));
  if (parent === undefined || Array.isArray(parent) || !isJsonObject(parent)) return false;
  return Object.entries(parent).some(([key, flag]) => ENCODING_QUALIFIERS.has(key) && flag !== false && flag !== null && flag !== '');
}

/** Whether `path` ends in an object member (not an array item) that holds a scalar or whose key is in `named`. */
function isKeptField(value: JsonValue, path: JsonPath, named: ReadonlySet<string>): boolean {
  const key = path[path.length - 1];
  if (typeof key !== 'string') return false;
  if (named.has(key)) return true;
  const node = getAt(value, path);
  return node !== undefined && !Array.isArray(node) && !isJsonObject(node);
}

/** One structural pass: ddmin over the children at each depth, from the top. */
async function removeLevelByLevel(
  value: JsonValue,
  judge: CachedJudge<JsonValue>,
  label: string,
  steps: string[],
  keepFields: MinimizeJsonOptions['keepFields'],
): Promise<JsonValue> {
  let current = value;
  for (let depth = 0; ; depth++) {
    const all = pathsAtDepth(current, depth + 1);
    if (all.length === 0) return current;
    const isPinned = (path: JsonPath) => isQualifier(path) || (keepFields !== undefined && isKeptField(current, path, keepFields.named));
    const pinned = all.filter(isPinned);
    const nodes = all.filter((path) => !isPinned(path));
    const base = current;
    const { result, exhausted } = await reduce(nodes, (kept) => judge.judge(keepOnly(base, depth, keysOf([...kept, ...pinned]))));
    if (result.length < nodes.length) {
      const kept = keysOf([...result, ...pinned]);
      current = keepOnly(base, depth, kept);
      for (const node of nodes) if (!kept.has(pathKey(node))) steps.push(`removed ${formatPath(label, node)}`);
    }
    if (exhausted) throw new Stopped(current);
  }
}

/**
 * Environment minimization: ddmin over the entries of a record (feature flags, env vars), judging the
 * record without the removed keys. `record` itself must fail.
 */
export async function minimizeRecord<V extends JsonValue>(
  record: Record<string, V>,
  judge: (candidate: Record<string, V>) => Promise<boolean>,
  options: MinimizeOptions = {},
): Promise<MinimizeJsonResult<Record<string, V>>> {
  const cached = createJudge((candidate) => judge(candidate as Record<string, V>), options);
  const entries = Object.entries(record);
  const { result } = await reduce(entries, (kept) => cached.judge(Object.fromEntries(kept)));
  const keptKeys = new Set(result.map(([key]) => key));
  const steps = entries.filter(([key]) => !keptKeys.has(key)).map(([key]) => `removed ${formatPath(options.label ?? '', [key])}`);
  return { minimal: Object.fromEntries(result), steps, ...cached.stats() };
}

function createJudge(judge: Judge<JsonValue>, options: MinimizeOptions): CachedJudge<JsonValue> {
  // Each judgement gets its own copy: candidates share untouched subtrees, so a judge that mutates
  // its argument must not corrupt later candidates.
  return new CachedJudge<JsonValue>((candidate) => judge(structuredClone(candidate)), {
    keyOf: contentHash,
    maxTests: options.maxTests,
    onJudgement: options.onJudgement,
  });
}

/** Every path of exactly `length` segments that exists in `value`. */
export function pathsAtDepth(value: JsonValue, length: number): JsonPath[] {
  if (length === 0) return [[]];
  const paths: JsonPath[] = [];
  for (const parent of pathsAtDepth(value, length - 1)) {
    const node = getAt(value, parent);
    for (const key of childKeys(node)) paths.push([...parent, key]);
  }
  return paths;
}

function childKeys(node: JsonValue | undefined): (string | number)[] {
  if (Array.isArray(node)) return node.map((_, index) => index);
  if (node !== undefined && isJsonObject(node)) return Object.keys(node);
  return [];
}

/** The value at `path`, or undefined when the path does not exist. */
export function getAt(value: JsonValue, path: JsonPath): JsonValue | undefined {
  let node: JsonValue | undefined = value;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (node !== undefined && isJsonObject(node) && typeof segment === 'string' && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

/** A copy of `value` with `replacement` at `path`; untouched subtrees are shared. */
export function setAt(value: JsonValue, path: JsonPath, replacement: JsonValue): JsonValue {
  const [head, ...rest] = path;
  if (head === undefined) return replacement;
  if (Array.isArray(value) && typeof head === 'number') {
    return value.map((item, index) => (index === head ? setAt(item, rest, replacement) : item));
  }
  if (isJsonObject(value) && typeof head === 'string') {
    // fromEntries defines own properties, so a "__proto__" key stays a key.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === head ? setAt(item, rest, replacement) : item]));
  }
  throw new RangeError(`path ${JSON.stringify(path)} does not exist`);
}

/** `value` with, below every container at `depth`, only the children whose paths are in `kept`. */
function keepOnly(value: JsonValue, depth: number, kept: ReadonlySet<string>, path: JsonPath = []): JsonValue {
  if (Array.isArray(value)) {
    const indices = value.map((_, index) => index);
    const survivors = path.length === depth ? indices.filter((index) => kept.has(pathKey([...path, index]))) : indices;
    return survivors.map((index) => keepOnly(value[index]!, depth, kept, [...path, index]));
  }
  if (isJsonObject(value)) {
    const keys = Object.keys(value);
    const survivors = path.length === depth ? keys.filter((key) => kept.has(pathKey([...path, key]))) : keys;
    return Object.fromEntries(survivors.map((key) => [key, keepOnly(value[key]!, depth, kept, [...path, key])]));
  }
  return value;
}

function pathKey(path: JsonPath): string {
  return JSON.stringify(path);
}

function keysOf(paths: JsonPath[]): Set<string> {
  return new Set(paths.map(pathKey));
}

/** A readable path: `body.preferences.newsletter`, `args[0]["sessions:count"]`. */
export function formatPath(label: string, path: JsonPath): string {
  let text = label;
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text === '' ? '(root)' : text;
}

/** The budget ran out; `current` is the smallest candidate known to fail. */
class Stopped extends Error {
  constructor(readonly current: JsonValue) {
    super('test budget spent');
  }
}

/** The scalar pass: top-down, each node replaced by simpler values while the judge still says it fails. */
class Simplifier {
  constructor(
    public current: JsonValue,
    private readonly judge: CachedJudge<JsonValue>,
    private readonly label: string,
    private readonly steps: string[],
  ) {}

  async run(): Promise<JsonValue> {
    await this.simplifyAt([]);
    return this.current;
  }

  private async simplifyAt(path: JsonPath): Promise<void> {
    const node = getAt(this.current, path);
    if (node === undefined || isQualifier(path)) return;
    // A prefix of an encoding is not the encoding of a prefix: encoded text is emptied or kept whole.
    if (typeof node === 'string' && hasEncodedSiblings(this.current, path)) {
      if (node !== '') await this.tryReplace(path, '');
      return;
    }
    if (Array.isArray(node) || isJsonObject(node)) {
      if (childKeys(node).length === 0) return;
      if (await this.tryReplace(path, Array.isArray(node) ? [] : {}, 'emptied')) return;
      for (const key of childKeys(node)) await this.simplifyAt([...path, key]);
      return;
    }
    if (typeof node === 'boolean') {
      if (node) await this.tryReplace(path, false);
    } else if (typeof node === 'string') {
      if (node !== '' && !(await this.tryReplace(path, ''))) await this.shrink(path, node, (text) => (text.length > 1 ? text.slice(0, Math.floor(text.length / 2)) : undefined));
    } else if (typeof node === 'number') {
      if (node !== 0 && !(await this.tryReplace(path, 0))) await this.shrink(path, node, towardZero);
    }
  }

  /** Keeps stepping toward simpler values while each step still fails. */
  private async shrink<S extends JsonValue>(path: JsonPath, start: S, next: (value: S) => S | undefined): Promise<void> {
    for (let candidate = next(start); candidate !== undefined; candidate = next(candidate)) {
      if (!(await this.tryReplace(path, candidate))) return;
    }
  }

  private async tryReplace(path: JsonPath, replacement: JsonValue, verb?: string): Promise<boolean> {
    const candidate = setAt(this.current, path, replacement);
    let stillFails: boolean;
    try {
      stillFails = await this.judge.judge(candidate);
    } catch (error) {
      if (error instanceof BudgetExhausted) throw new Stopped(this.current);
      throw error;
    }
    if (!stillFails) return false;
    this.current = candidate;
    const where = formatPath(this.label, path);
    this.steps.push(verb ? `${verb} ${where}` : `simplified ${where} to ${abbreviate(JSON.stringify(replacement))}`);
    return true;
  }
}

/** Halves an integer toward 0; a fraction first loses its fractional part. */
function towardZero(value: number): number | undefined {
  if (!Number.isInteger(value)) return Math.trunc(value) === 0 ? undefined : Math.trunc(value);
  const half = Math.trunc(value / 2);
  // 0 was tried before any halving.
  return half === 0 ? undefined : half;
}

function abbreviate(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 37)}...`;
}

