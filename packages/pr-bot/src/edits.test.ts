import { describe, expect, it } from 'vitest';
import { assertRepositoryPath } from './edits';

describe('assertRepositoryPath', () => {
  it('accepts plain relative paths and refuses escapes', () => {
    expect(() => assertRepositoryPath('src/handlers/create-user.ts', 'edit')).not.toThrow();
    for (const bad of ['', '/etc/passwd', '../x.ts', 'src/../../x.ts', 'src//x.ts', './x.ts', '.git/config', 'a\\b.ts']) {
      expect(() => assertRepositoryPath(bad, 'edit'), bad).toThrow(/is not a plain repository-relative path/);
    }
  });
});
