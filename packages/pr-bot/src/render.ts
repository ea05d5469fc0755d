import type { PullRequestInput, Verification } from '@tracemend/contracts';
import { cell, codeBlock, inlineCode, shellCommand, table, truncateLines } from './markdown';
import { errorType, failingFunction, shortFingerprint } from './naming';

/** GitHub refuses PR bodies longer than this many characters. */
export const GITHUB_BODY_LIMIT = 65_536;
/** The body is kept below GitHub's limit with room to spare. */
export const MAX_BODY_CHARS = 64_000;

const MAX_TITLE_FUNCTION = 80;
const MAX_SUBJECT_RATIONALE = 72;

/** The section headings of every PR body, in order; tools and reviewers can rely on them. */
export const BODY_SECTIONS = [
  'Summary',
  'Evidence',
  'The minimal failing test',
  'Suspects',
  'Patch',
  'Verification',
  'Risk',
  'Privacy',
] as const;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function clipAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
}

function scope(input: PullRequestInput): string {
  return clip(input.target.service, 64);
}

/** `fix(<service>): <errorType> in <function> (<fingerprint first 8>)`. */
export function renderTitle(input: PullRequestInput): string {
  return `fix(${scope(input)}): ${errorType(input)} in ${clip(failingFunction(input), MAX_TITLE_FUNCTION)} (${shortFingerprint(input)})`;
}

/** The message of the first commit, which adds the minimal failing test. */
export function renderTestCommitMessage(input: PullRequestInput): string {
  const { signature, testFile } = input.minimal;
  const fingerprint = input.gated.envelope.identity.fingerprint;
  return [
    `test(${scope(input)}): reproduce ${errorType(input)} in ${clip(failingFunction(input), MAX_TITLE_FUNCTION)}`,
    '',
    `Minimal failing test for the production failure with fingerprint ${fingerprint}.`,
    `On ${input.target.sha} it fails with the recorded signature ${signature.hash}:`,
    `  ${signature.errorType}: ${clip(signature.normalizedMessage, 500)}`,
    '',
    'Run it with:',
    `  ${shellCommand(testFile.command)}`,
    '',
    `Tracemend-Fingerprint: ${fingerprint}`,
  ].join('\n');
}

/** The message of the second commit, which applies the verified patch. */
export function renderFixCommitMessage(input: PullRequestInput): string {
  const { candidate, verification } = input;
  const rationale = candidate.rationale.trim();
  const firstLine = rationale.split(/\r?\n/, 1)[0]?.trim() || `repair ${errorType(input)} in ${failingFunction(input)}`;
  const origin = candidate.origin === 'template' ? `template ${candidate.template ?? 'unnamed'}` : 'LLM';
  const lines = [`fix(${scope(input)}): ${clipAtWord(firstLine, MAX_SUBJECT_RATIONALE)}`, '', rationale, ''];
  lines.push(`Candidate: ${candidate.id} (${origin})`);
  lines.push(`Verification: ${verification.verdict}; ${clip(verification.reason, 500)}`);
  if (verification.risk) lines.push(`Risk: ${verification.risk.score}/100 (${verification.risk.level})`);
  lines.push('', `Tracemend-Fingerprint: ${input.gated.envelope.identity.fingerprint}`);
  return lines.join('\n');
}

/** The comment left on an existing PR when a new occurrence rebuilt its branch. */
export function renderUpdateComment(input: PullRequestInput): string {
  const { identity } = input.gated.envelope;
  const risk = input.verification.risk;
  return [
    `Updated by tracemend: occurrence ${identity.occurrences} of fingerprint \`${identity.fingerprint}\` (last seen ${identity.lastSeen}).`,
    '',
    `The branch was rebuilt on \`${input.target.sha.slice(0, 12)}\` with candidate \`${input.candidate.id}\` ` +
      `(${input.candidate.origin}); verification ${input.verification.verdict}` +
      (risk ? `, risk ${risk.score}/100 (${risk.level}).` : ', risk not scored.'),
    'Title and description above reflect this run.',
  ].join('\n');
}

interface Budget {
  code: number;
  diff: number;
  spans: number;
  suspects: number;
  factors: number;
}

const INITIAL_BUDGET: Budget = { code: 16_000, diff: 24_000, spans: 25, suspects: 10, factors: 16 };

function languageOf(file: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(file)?.[1]?.toLowerCase() ?? '';
  const known: Record<string, string> = { ts: 'ts', tsx: 'tsx', mts: 'ts', cts: 'ts', js: 'js', jsx: 'jsx', mjs: 'js', cjs: 'js' };
  return known[extension] ?? '';
}

function truncatedBlock(text: string, max: number, language: string, what: string): string {
  const { text: kept, omittedLines, truncated } = truncateLines(text, max);
  const block = codeBlock(kept, language);
  if (!truncated) return block;
  const lost = omittedLines > 0 ? `${omittedLines} more line(s)` : 'The rest';
  return `${block}\n\n_${lost} of the ${what} left out here; the commit has all of it._`;
}

function durationMs(start: string, end: string): string {
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) && ms >= 0 ? `${ms} ms` : '—';
}

function summarySection(input: PullRequestInput): string {
  const { identity } = input.gated.envelope;
  const { candidate, verification, reproduction, target } = input;
  const origin = candidate.origin === 'template' ? `a template patch (${inlineCode(candidate.template ?? 'unnamed')})` : 'an LLM-proposed patch';
  const risk = verification.risk ? `**${verification.risk.score}/100 (${verification.risk.level})**` : '**not scored**';
  return [
    `tracemend reproduced **${errorType(input)}** in ${inlineCode(failingFunction(input))} of **${target.service}** ` +
      `(${identity.environment}) in ${reproduction.matchingRuns} of ${reproduction.runs} sandbox runs, reduced it to a ` +
      `minimal failing test and verified ${origin} against it. Verification: **${verification.verdict}**. Risk: ${risk}.`,
    '',
    `The two commits are built on ${inlineCode(target.sha)}, the commit the failure was recorded on, so the test fails ` +
      `and the patch applies exactly there. If ${inlineCode(target.baseBranch)} has moved since, GitHub shows below whether ` +
      'the branch still merges cleanly.',
  ].join('\n');
}

function evidenceSection(input: PullRequestInput, budget: Budget): string {
  const { identity, spans } = input.gated.envelope;
  const signature = input.minimal.signature;
  const frames = signature.frames.map((frame) => `${frame.function} (${frame.file})`).join(' ← ') || '—';
  const rows: string[][] = [
    ['Trace id', identity.traceId ? inlineCode(identity.traceId) : 'not recorded'],
    ['Service', cell(identity.service)],
    ['Commit', inlineCode(input.target.sha)],
    ['Environment', cell(identity.environment)],
    ['Signature', `${cell(signature.errorType)}: ${inlineCode(cell(signature.normalizedMessage, 300))} (${inlineCode(signature.hash)})`],
    ['Top frames', cell(frames, 400)],
    ['First seen', identity.firstSeen],
    ['Last seen', identity.lastSeen],
    ['Occurrences', String(identity.occurrences)],
    // The image names the Node the replay ran on (tracemend/sandbox-node:<version>, or the operator's own).
    ['Reproduced', `${input.reproduction.matchingRuns}/${input.reproduction.runs} runs (${cell(input.reproduction.sandbox.driver)}, image ${inlineCode(cell(input.reproduction.sandbox.image, 200))})`],
    ...(input.reproduction.dependencyNote === undefined ? [] : [['Dependencies', cell(input.reproduction.dependencyNote)]]),
  ];
  const parts = [table(['Field', 'Value'], rows)];
  parts.push('', '**Trace excerpt** (span names, kinds and status only; attributes, messages and payloads are never copied here)', '');
  if (spans.length === 0) {
    parts.push('_No spans were recorded._');
  } else {
    const shown = spans.slice(0, budget.spans);
    parts.push(
      table(
        ['Span', 'Kind', 'Service', 'Status', 'Duration'],
        shown.map((span) => [
          cell(span.name, 120),
          span.kind,
          cell(span.service, 60),
          span.status.code,
          durationMs(span.startTime, span.endTime),
        ]),
      ),
    );
    if (spans.length > shown.length) parts.push('', `_${spans.length - shown.length} more span(s) left out._`);
  }
  return parts.join('\n');
}

function testSection(input: PullRequestInput, budget: Budget): string {
  const { testFile, testsRun, cacheHits } = input.minimal;
  return [
    `${inlineCode(testFile.path)} (${testFile.runner}), found by delta debugging over ${testsRun} candidate runs (${cacheHits} cached). ` +
      `It fails on ${inlineCode(input.target.sha.slice(0, 12))} with the recorded signature and passes with the patch.`,
    '',
    truncatedBlock(testFile.content, budget.code, languageOf(testFile.path), 'test'),
    '',
    ...supportLine(testFile.support ?? []),
    'Run it with:',
    '',
    codeBlock(shellCommand(testFile.command), 'sh'),
  ].join('\n');
}

function supportLine(support: readonly { path: string }[]): string[] {
  if (support.length === 0) return [];
  return [`Committed beside it, for the test to import: ${support.map((file) => inlineCode(file.path)).join(', ')}.`, ''];
}

function suspectsSection(input: PullRequestInput, budget: Budget): string {
  const { suspects, failingRuns, passingRuns } = input.localization;
  if (suspects.length === 0) return '_Fault localization ranked no suspects._';
  const shown = suspects.slice(0, budget.suspects);
  const parts = [
    `Spectrum-based ranking over ${failingRuns} failing and ${passingRuns} passing runs (Ochiai, weighted by stack-frame proximity).`,
    '',
    table(
      ['Rank', 'Location', 'Function', 'Score', 'Ochiai'],
      shown.map((suspect, index) => [
        String(index + 1),
        inlineCode(cell(`${suspect.file}:${suspect.line}`, 160)),
        suspect.function ? inlineCode(cell(suspect.function, 80)) : '—',
        suspect.score.toFixed(3),
        suspect.scores.ochiai.toFixed(3),
      ]),
    ),
  ];
  if (suspects.length > shown.length) parts.push('', `_${suspects.length - shown.length} lower-ranked suspect(s) left out._`);
  return parts.join('\n');
}

function patchSection(input: PullRequestInput, budget: Budget): string {
  const { candidate } = input;
  const origin = candidate.origin === 'template' ? `template ${inlineCode(candidate.template ?? 'unnamed')}` : 'LLM';
  const { files, linesAdded, linesRemoved } = candidate.size;
  return [
    `Candidate ${inlineCode(candidate.id)} from ${origin}, aimed at suspect #${candidate.suspectRank + 1}: ` +
      `${files} file(s), +${linesAdded} −${linesRemoved} line(s).`,
    '',
    '**Rationale**',
    '',
    candidate.rationale.trim(),
    '',
    truncatedBlock(candidate.editPlan.diff, budget.diff, 'diff', 'diff'),
  ].join('\n');
}

function verificationSection(verification: Verification): string {
  const { checks } = verification;
  const duration = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;
  const rows = [
    ['Typecheck', checks.typecheck.status, cell(checks.typecheck.detail), duration(checks.typecheck.durationMs)],
    [
      'Existing suite',
      checks.suite.status,
      cell(
        `${checks.suite.passed} passed, ${checks.suite.failed} failed, ` +
          `${checks.suite.baselineFailures.length} baseline failure(s) excluded: ${checks.suite.detail}`,
      ),
      duration(checks.suite.durationMs),
    ],
    ['Fails before the patch', checks.failsBefore.status, cell(checks.failsBefore.detail), duration(checks.failsBefore.durationMs)],
    ['Passes after the patch', checks.passesAfter.status, cell(checks.passesAfter.detail), duration(checks.passesAfter.durationMs)],
    [
      'Fuzz variants',
      checks.fuzz.status,
      cell(`${checks.fuzz.variants} variants, ${checks.fuzz.newSignatures.length} new signature(s): ${checks.fuzz.detail}`),
      duration(checks.fuzz.durationMs),
    ],
  ];
  return [
    `Verdict: **${verification.verdict}** (${cell(verification.reason, 500)})`,
    '',
    table(['Check', 'Status', 'Detail', 'Duration'], rows),
  ].join('\n');
}

function riskSection(verification: Verification, budget: Budget): string {
  const risk = verification.risk;
  if (!risk) return '_The verifier did not score this candidate._';
  const shown = risk.factors.slice(0, budget.factors);
  return [
    `**${risk.score}/100 (${risk.level})**`,
    '',
    shown.length === 0
      ? '_No factors recorded._'
      : table(
          ['Factor', 'Value', 'Weight', 'Contribution', 'Detail'],
          shown.map((factor) => [
            factor.name,
            String(factor.value),
            factor.weight.toFixed(2),
            factor.contribution.toFixed(1),
            cell(factor.detail),
          ]),
        ),
  ].join('\n');
}

function privacySection(input: PullRequestInput): string {
  const { privacy } = input.gated;
  const actions = ['allow', 'tokenize', 'hash', 'redact', 'drop'] as const;
  const counts = actions.map((action) => [action, String(privacy.decisions.filter((decision) => decision.action === action).length)]);
  const hits = new Map<string, { fields: number; count: number }>();
  for (const hit of privacy.detectorHits) {
    const entry = hits.get(hit.detector) ?? { fields: 0, count: 0 };
    entry.fields += 1;
    entry.count += hit.count;
    hits.set(hit.detector, entry);
  }
  const hitText =
    hits.size === 0
      ? 'none'
      : [...hits].map(([detector, { fields, count }]) => `${cell(detector, 64)} × ${count} in ${fields} field(s)`).join(', ');
  return [
    `Everything above comes from the gated envelope: data contract ${inlineCode(privacy.contract.id)} version ${privacy.contract.version}. ` +
      'No production value appears in this description; tokenized values can be reversed only by operators, through the vault.',
    '',
    table(['Field decisions', 'Count'], [...counts, ['unknown fields dropped', String(privacy.droppedUnknown.length)]]),
    '',
    `Detector hits: ${hitText}.`,
    '',
    `Audit record: ${inlineCode(privacy.audit.auditId)} #${privacy.audit.sequence} (record hash ${inlineCode(privacy.audit.recordHash)}).`,
  ].join('\n');
}

function assemble(input: PullRequestInput, budget: Budget): string {
  const sections: Record<(typeof BODY_SECTIONS)[number], string> = {
    Summary: summarySection(input),
    Evidence: evidenceSection(input, budget),
    'The minimal failing test': testSection(input, budget),
    Suspects: suspectsSection(input, budget),
    Patch: patchSection(input, budget),
    Verification: verificationSection(input.verification),
    Risk: riskSection(input.verification, budget),
    Privacy: privacySection(input),
  };
  const marker = `<!-- tracemend fingerprint=${input.gated.envelope.identity.fingerprint} -->`;
  return [...BODY_SECTIONS.map((name) => `## ${name}\n\n${sections[name]}`), marker].join('\n\n') + '\n';
}

/**
 * The PR description: stable sections built only from the gated envelope and the pipeline's own
 * artifacts. Long parts (test, diff, tables) shrink until the body fits GitHub's limit.
 */
export function renderBody(input: PullRequestInput): string {
  let budget = { ...INITIAL_BUDGET };
  for (let attempt = 0; attempt < 8; attempt++) {
    const body = assemble(input, budget);
    if (body.length <= MAX_BODY_CHARS) return body;
    budget = {
      code: Math.floor(budget.code / 2),
      diff: Math.floor(budget.diff / 2),
      spans: Math.floor(budget.spans / 2),
      suspects: Math.max(3, Math.floor(budget.suspects / 2)),
      factors: Math.max(4, Math.floor(budget.factors / 2)),
    };
  }
  // Only huge free-text fields (rationale, check details) can get here; cut and say so.
  const note = '\n\n_This description was cut to fit GitHub’s size limit; the commits carry the full test and patch._\n';
  return assemble(input, budget).slice(0, MAX_BODY_CHARS - note.length) + note;
}
