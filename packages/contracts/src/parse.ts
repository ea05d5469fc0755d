import type { z } from 'zod';
import { TracemendError } from './errors';

/** Renders zod issues as `path: message` lines, so an error names exactly what was wrong. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.reduce<string>((text, key) => {
        if (typeof key === 'number') return `${text}[${key}]`;
        return text === '' ? String(key) : `${text}.${String(key)}`;
      }, '');
      return `${path === '' ? '(root)' : path}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses `value` against a contract or throws INVALID_INPUT naming the contract and every failing path. */
export function parseContract<S extends z.ZodType>(schema: S, value: unknown, name: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new TracemendError('INVALID_INPUT', `${name} is invalid: ${formatIssues(result.error.issues)}`, {
    cause: result.error,
  });
}
