import { describe, expect, it } from 'vitest';
import { normalizeErrorMessage as normalizeMessage } from './signature';

describe('normalizeErrorMessage', () => {
  it('strips values that vary between occurrences and keeps the property V8 names', () => {
    expect(normalizeMessage("Cannot read properties of undefined (reading 'push')")).toBe("Cannot read properties of undefined (reading 'push')");
    expect(normalizeMessage('user 4821 not found (id 6f1c2d3e-4b5a-4978-8a6b-5c4d3e2f1a0b)')).toBe('user <n> not found (id <uuid>)');
    expect(normalizeMessage('invalid email "ana@example.com" for plan \'pro\'')).toBe('invalid email "<v>" for plan \'<v>\'');
  });
});
