import { TracemendError } from '@tracemend/contracts';

/** Refuses paths that could leave the repository or are not plain relative file paths. */
export function assertRepositoryPath(file: string, what: string): void {
  const segments = file.split('/');
  const bad =
    file === '' ||
    file.startsWith('/') ||
    file.includes('\\') ||
    file.includes('\0') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..' || segment === '.git');
  if (bad) {
    throw new TracemendError('INVALID_INPUT', `${what} path ${JSON.stringify(file)} is not a plain repository-relative path`, {
      details: { file },
    });
  }
}
