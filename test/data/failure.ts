// The DatasetError a data step rejects with, for the tests of prepare and download that check
// what the error names (message, file).
import { expect } from 'vitest';
import { DatasetError } from '../../src/data/errors.js';

/** The DatasetError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<DatasetError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  return err as DatasetError;
}
