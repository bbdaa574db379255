// Opening a prepared split's Arrow IPC bytes with errors that name the file: the magic at both
// ends (a truncated file is reported as such) and the table itself. The image and token readers
// check their own schemas on the table this returns.
import { basename } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { DatasetError } from './errors.js';

const ARROW_MAGIC = 'ARROW1';

function hasMagic(bytes: Uint8Array, at: number): boolean {
  if (at < 0 || at + ARROW_MAGIC.length > bytes.length) return false;
  for (let i = 0; i < ARROW_MAGIC.length; i++) if (bytes[at + i] !== ARROW_MAGIC.charCodeAt(i)) return false;
  return true;
}

/** The table in `bytes`, and a `fail` that throws a DatasetError naming `file`. */
export function openArrowTable(bytes: Uint8Array, file: string): { table: Table; fail: (what: string) => never } {
  const name = basename(file);
  const fail = (what: string): never => {
    throw new DatasetError(file, `${name}: ${what}`);
  };
  if (!hasMagic(bytes, 0)) fail('not an Arrow IPC file (no ARROW1 magic at the start)');
  if (!hasMagic(bytes, bytes.length - ARROW_MAGIC.length)) {
    fail(`incomplete Arrow IPC file of ${bytes.length} bytes (no ARROW1 magic at the end: truncated?)`);
  }
  try {
    return { table: tableFromIPC(bytes), fail };
  } catch (err) {
    throw new DatasetError(file, `${name}: damaged Arrow IPC file: ${(err as Error).message}`, { cause: err });
  }
}
