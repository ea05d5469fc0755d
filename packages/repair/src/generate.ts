import { Candidate, LIMITS, SCHEMA_VERSION, type Suspect } from '@tracemend/contracts';
import { Project, ts, type SourceFile } from 'ts-morph';
import { checkEditConstraints, MAX_CHANGED_LINES } from './constraints';
import { countLineChange, editsBetween, type FileTexts } from './edits';
import { regionAtLine, type FunctionRegion } from './regions';
import { frameColumn, isCallCrash, isMemberCrash, isValueCrash, parseCrash, type Crash, type RepairSymptom, type ValueCrash } from './symptom';
import { applyChanges, BUG_PATTERN_TEMPLATES, findCrashSites, proposeRepairs, TEMPLATE_NAMES, type TemplateName, type TemplateProposal } from './templates';
import { proposeAwait, proposeAwaitForEach } from './await-templates';
import { proposeLastIndex } from './bounds-templates';
import { findUnusedCalls, proposeOptionalCall } from './call-templates';
import { findArgumentSites, proposeArgumentRepairs } from './argument-templates';
import { proposeReplaceAll, proposeTrunc } from './message-templates';
import { findValueSites, proposeValueRepairs } from './value-templates';
import { diffLineHunks, splitLines, stableHash, unifiedDiff } from './text';

/** Input of `generateTemplateCandidates`. */
export interface TemplateCandidateInput {
  /** Repository-relative path → source text; imports between these files resolve for type checks. */
  files: FileTexts;
  /** Suspects, best first. */
  suspects: readonly Suspect[];
  symptom: RepairSymptom;
  maxCandidates: number;
  /** Candidate ids or diffs an earlier round already rejected. */
  rejected?: Iterable<string>;
  /** Bound on changed lines per candidate. Default 20. */
  maxChangedLines?: number;
}

/** A template candidate: the contract's `Candidate` plus the function it touches and its changed-line count. */
export interface TemplateCandidate extends Candidate {
  origin: 'template';
  template: TemplateName;
  touches: FunctionRegion;
  changedLines: number;
}

/** Crashes an undefined value causes: where an out-of-bounds read can be the origin. */
const YIELDS_UNDEFINED = new Set(['nullish-read', 'nullish-write', 'destructure-nullish', 'not-iterable']);

const CODE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

// Strict, modern defaults: a candidate must not add type errors under them.
const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  allowJs: true,
  checkJs: false,
  jsx: ts.JsxEmit.Preserve,
  noEmit: true,
  skipLibCheck: true,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
};

function diagnosticKeys(sourceFile: SourceFile): Map<string, number> {
  const counts = new Map<string, number>();
  for (const diagnostic of sourceFile.getPreEmitDiagnostics()) {
    const key = `${diagnostic.getCode()}:${ts.flattenDiagnosticMessageText(diagnostic.compilerObject.messageText, '\n')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** True when `text` in place of the file adds a type error the original did not have. */
function addsTypeErrors(sourceFile: SourceFile, original: string, text: string, baseline: Map<string, number>): boolean {
  sourceFile.replaceWithText(text);
  try {
    for (const [key, count] of diagnosticKeys(sourceFile)) {
      if (count > (baseline.get(key) ?? 0)) return true;
    }
    return false;
  } finally {
    sourceFile.replaceWithText(original);
  }
}

interface Draft {
  suspectRank: number;
  suspect: Suspect;
  template: TemplateName;
  rationale: string;
  file: string;
  text: string;
  region: FunctionRegion;
}

/** The templates for `crash` that apply on one suspect line. */
function proposalsAtLine(sourceFile: SourceFile, line: number, column: number | undefined, crash: Crash, eol: string): TemplateProposal[] {
  let proposals: TemplateProposal[];
  if (isMemberCrash(crash)) {
    proposals = findCrashSites(sourceFile, line, column, crash).flatMap((site) => {
      const awaited = proposeAwait(site, crash);
      return awaited === undefined ? proposeRepairs(site, crash, eol) : [...proposeRepairs(site, crash, eol), awaited];
    });
    if (crash.kind === 'not-a-function' && crash.callee !== undefined) {
      proposals.push(...findUnusedCalls(sourceFile, line, column, crash.callee).map(proposeOptionalCall));
    }
    // `const { a = 1 } = undefined` reads `a` first and says so: "Cannot read properties of undefined (reading 'a')".
    if (proposals.length === 0 && crash.kind === 'nullish-read') {
      const destructure: ValueCrash = { kind: 'destructure-nullish', property: crash.property, ...(crash.receiver ? { receiver: crash.receiver } : {}) };
      proposals = findValueSites(sourceFile, line, column, destructure).flatMap((site) => proposeValueRepairs(site, destructure, eol));
    }
  } else if (isCallCrash(crash)) {
    proposals = findUnusedCalls(sourceFile, line, column, crash.callee).map(proposeOptionalCall);
  } else if (isValueCrash(crash)) {
    proposals = findValueSites(sourceFile, line, column, crash).flatMap((site) => proposeValueRepairs(site, crash, eol));
  } else {
    proposals = findArgumentSites(sourceFile, line, column, crash).flatMap((site) => proposeArgumentRepairs(site, crash, eol));
  }
  // An element read one past the end yields the undefined that crashes here or further on.
  if (YIELDS_UNDEFINED.has(crash.kind)) proposals.push(...proposeLastIndex(sourceFile, line), ...proposeAwaitForEach(sourceFile, line));
  return proposals;
}

/**
 * Candidate patches from the repair templates at each suspect line, for the crash the symptom describes.
 * Every candidate parses, adds no type error, stays inside its suspect's function and keeps exported
 * signatures. Ranked bug-pattern templates first, then by suspect, then fewer changed lines, then
 * template preference; deterministic.
 * Empty when the message names no repairable operation or no suspect line holds one.
 */
export function generateTemplateCandidates(input: TemplateCandidateInput): TemplateCandidate[] {
  const crash = parseCrash(input.symptom);
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: COMPILER_OPTIONS });
  const sourceFiles = new Map<string, SourceFile>();
  for (const [path, text] of input.files) {
    if (CODE_FILE.test(path)) sourceFiles.set(path, project.createSourceFile(path, text, { overwrite: true }));
  }

  const drafts: Draft[] = [];
  input.suspects.forEach((suspect, suspectRank) => {
    const sourceFile = sourceFiles.get(suspect.file);
    const original = input.files.get(suspect.file);
    if (sourceFile === undefined || original === undefined) return;
    const region = regionAtLine(sourceFile, suspect.file, suspect.line);
    if (region === undefined) return;
    const column = frameColumn(input.symptom.frames, suspect.file, suspect.line);
    const eol = splitLines(original).eol;
    const proposals = [
      ...(crash === undefined ? [] : proposalsAtLine(sourceFile, suspect.line, column, crash, eol)),
      // What the message still shows needs no crash kind: a dependency's own error class says enough.
      ...proposeReplaceAll(sourceFile, suspect.line, input.symptom.message),
      ...proposeTrunc(sourceFile, suspect.line, input.symptom.message),
    ];
    for (const proposal of proposals) {
      drafts.push({
        suspectRank,
        suspect,
        template: proposal.template,
        rationale: proposal.rationale,
        file: suspect.file,
        text: applyChanges(original, proposal.changes),
        region,
      });
    }
  });

  const rejected = new Set(input.rejected ?? []);
  const baselines = new Map<string, Map<string, number>>();
  const byId = new Map<string, { candidate: TemplateCandidate; delta: number }>();
  for (const draft of drafts) {
    const original = input.files.get(draft.file) ?? '';
    const sourceFile = sourceFiles.get(draft.file);
    if (sourceFile === undefined || draft.text === original) continue;
    const edits = editsBetween(draft.file, original, draft.text);
    const id = stableHash(edits.map(({ file, startLine, endLine, before, after }) => [file, startLine, endLine, before, after]));
    const diff = unifiedDiff(draft.file, original, draft.text);
    if (byId.has(id) || rejected.has(id) || rejected.has(diff)) continue;
    const edited = new Map(input.files).set(draft.file, draft.text);
    const violations = checkEditConstraints(input.files, edited, [draft.suspect], {
      maxChangedLines: input.maxChangedLines ?? MAX_CHANGED_LINES,
    });
    if (violations.length > 0) continue;
    let baseline = baselines.get(draft.file);
    if (baseline === undefined) {
      baseline = diagnosticKeys(sourceFile);
      baselines.set(draft.file, baseline);
    }
    if (addsTypeErrors(sourceFile, original, draft.text, baseline)) continue;
    const change = countLineChange(diffLineHunks(splitLines(original).lines, splitLines(draft.text).lines));
    const parsed = Candidate.safeParse({
      schemaVersion: SCHEMA_VERSION,
      id,
      origin: 'template',
      template: draft.template,
      rationale: draft.rationale,
      suspectRank: draft.suspectRank,
      editPlan: { edits, diff },
      size: { files: 1, linesAdded: change.linesAdded, linesRemoved: change.linesRemoved },
    });
    if (!parsed.success) continue;
    byId.set(id, {
      candidate: {
        ...parsed.data,
        origin: 'template',
        template: draft.template,
        touches: draft.region,
        changedLines: change.changedLines,
      },
      delta: Math.abs(draft.text.length - original.length),
    });
  }

  const limit = Math.max(0, Math.min(input.maxCandidates, LIMITS.candidates));
  return [...byId.values()]
    .sort(
      (a, b) =>
        Number(!BUG_PATTERN_TEMPLATES.has(a.candidate.template)) - Number(!BUG_PATTERN_TEMPLATES.has(b.candidate.template)) ||
        a.candidate.suspectRank - b.candidate.suspectRank ||
        a.candidate.changedLines - b.candidate.changedLines ||
        TEMPLATE_NAMES.indexOf(a.candidate.template) - TEMPLATE_NAMES.indexOf(b.candidate.template) ||
        a.delta - b.delta ||
        (a.candidate.id < b.candidate.id ? -1 : a.candidate.id > b.candidate.id ? 1 : 0),
    )
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}
