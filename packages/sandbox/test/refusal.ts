import { TracemendError } from '@tracemend/contracts';

/** The TracemendError a promise rejects with, so a test can check its code, message and details together. */
export async function refusal(promise: Promise<unknown>): Promise<TracemendError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TracemendError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
