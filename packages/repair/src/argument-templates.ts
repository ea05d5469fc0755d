import { Node, SyntaxKind, type CallExpression, type Expression, type NewExpression, type SourceFile } from 'ts-morph';
import type { ArgumentCrash } from './symptom';
import { guardsBefore, isPurePath, nearestToColumn, short, type TemplateProposal } from './templates';

/** A call whose argument was out of the built-in's domain, and that argument. */
export interface ArgumentSite {
  call: CallExpression | NewExpression;
  argument: Expression;
}

function calleeName(call: CallExpression | NewExpression): string {
  const callee = call.getExpression();
  return Node.isPropertyAccessExpression(callee) ? callee.getName() : callee.getText();
}

function receiverOf(call: CallExpression | NewExpression): Expression | undefined {
  const callee = call.getExpression();
  return Node.isPropertyAccessExpression(callee) ? callee.getExpression() : undefined;
}

/** Whether `call` is one the crash can have come from. */
function matches(call: CallExpression | NewExpression, crash: ArgumentCrash): boolean {
  const name = calleeName(call);
  const isNew = Node.isNewExpression(call);
  switch (crash.kind) {
    case 'bigint-fraction':
      return !isNew && call.getExpression().getText() === 'BigInt';
    case 'repeat-count':
      return !isNew && name === 'repeat' && receiverOf(call) !== undefined;
    case 'array-length':
      return call.getExpression().getText() === 'Array' && call.getArguments().length === 1;
    case 'digits':
      return !isNew && name === crash.method && receiverOf(call) !== undefined;
    case 'invalid-date':
      return !isNew && name === 'toISOString' && call.getArguments().length === 0 && receiverOf(call) !== undefined;
    case 'json-syntax':
      return !isNew && call.getExpression().getText() === 'JSON.parse';
  }
}

/** The calls on `line` that can have thrown; with a column, the nearest. */
export function findArgumentSites(sourceFile: SourceFile, line: number, column: number | undefined, crash: ArgumentCrash): ArgumentSite[] {
  const calls = [
    ...sourceFile.getDescendantsOfKind(SyntaxKind.CallExpression),
    ...sourceFile.getDescendantsOfKind(SyntaxKind.NewExpression),
  ].filter((call) => call.getStartLineNumber() <= line && line <= call.getEndLineNumber() && matches(call, crash));
  const sites: ArgumentSite[] = calls.flatMap((call) => {
    const argument = crash.kind === 'invalid-date' ? receiverOf(call) : call.getArguments()[0];
    return argument === undefined || Node.isSpreadElement(argument) ? [] : [{ call, argument: argument as Expression }];
  });
  sites.sort((a, b) => a.call.getStart() - b.call.getStart());
  return nearestToColumn(sites, sourceFile, column, (site) => site.call.getExpression().getEnd());
}

function clamped(crash: ArgumentCrash, text: string): { text: string; rationale: string } | undefined {
  switch (crash.kind) {
    case 'bigint-fraction':
      return {
        text: `Math.round(${text})`,
        rationale: `Rounds \`${short(text)}\` to the nearest integer before \`BigInt\`, which refuses a fraction (binary floats make 19.99 * 100 come out as 1998.9999999999998).`,
      };
    case 'repeat-count':
      return { text: `Math.max(0, ${text})`, rationale: `Repeats zero times instead of throwing when \`${short(text)}\` is negative.` };
    case 'array-length':
      return {
        text: `Math.max(0, Math.trunc(${text}) || 0)`,
        rationale: `Makes the length of the new array a whole number no less than 0 when \`${short(text)}\` is negative, fractional or not a number.`,
      };
    case 'digits': {
      const low = crash.method === 'toPrecision' ? 1 : 0;
      return {
        text: `Math.min(100, Math.max(${low}, ${text}))`,
        rationale: `Keeps the digits given to \`${crash.method ?? 'toFixed'}\` within ${low}–100, the range it accepts, when \`${short(text)}\` is outside it.`,
      };
    }
    case 'invalid-date':
    case 'json-syntax':
      return undefined;
  }
}

/**
 * `decode-base64-body`: `JSON.parse(event.body)` of an API Gateway, ALB or function-URL event, whose
 * body arrives base64-encoded (`isBase64Encoded`) for binary media types and some content types.
 * The body is decoded first when the event says it is encoded; the type checker drops the candidate
 * where the value's type has no `isBase64Encoded`.
 */
function decodeBase64Body(site: ArgumentSite): TemplateProposal[] {
  const argument = site.argument;
  if (!Node.isPropertyAccessExpression(argument) || argument.getName() !== 'body' || argument.hasQuestionDotToken()) return [];
  const event = argument.getExpression();
  if (!isPurePath(event)) return [];
  const text = event.getText();
  return [
    {
      template: 'decode-base64-body',
      rationale: `Decodes \`${short(text)}.body\` from base64 when \`${short(text)}.isBase64Encoded\` says the proxy encoded it, before parsing it as JSON.`,
      changes: [
        {
          start: argument.getStart(),
          end: argument.getEnd(),
          text: `${text}.isBase64Encoded ? Buffer.from(${text}.body, 'base64').toString('utf8') : ${text}.body`,
        },
      ],
    },
  ];
}

/** Every template that applies where a built-in was given an argument outside its domain. */
export function proposeArgumentRepairs(site: ArgumentSite, crash: ArgumentCrash, eol: string): TemplateProposal[] {
  const text = site.argument.getText();
  if (crash.kind === 'json-syntax') return decodeBase64Body(site);
  if (crash.kind === 'invalid-date') {
    return guardsBefore(site.call, site.argument, `Number.isNaN(${text}.getTime())`, 'is an invalid date', '`toISOString`', eol);
  }
  const change = clamped(crash, text);
  if (change === undefined) return [];
  return [
    {
      template: 'clamp-argument',
      rationale: change.rationale,
      changes: [{ start: site.argument.getStart(), end: site.argument.getEnd(), text: change.text }],
    },
  ];
}
