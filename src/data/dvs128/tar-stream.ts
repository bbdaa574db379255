// Streaming the regular-file members of a (gzipped) tar archive from disk through the `tar`
// package's parser, one member at a time in archive order, so a 1.5 GB DvsGesture.tar.gz never
// sits in memory whole. The compressed bytes are hashed on the way (SHA-256, MD5). An archive that
// ends without tar's end-of-archive marker, a damaged gzip stream or a failing visitor rejects.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Parser, type ReadEntry } from 'tar';
import { normalizeMemberPath } from '../archives.js';

export interface TarMember {
  /** Normalised path inside the archive. */
  path: string;
  /** The whole member's bytes. */
  bytes: Uint8Array;
}

export interface TarPass {
  sha256: string;
  md5: string;
}

const isFile = (e: ReadEntry): boolean => e.type === 'File' || e.type === 'OldFile' || e.type === 'ContiguousFile';

/**
 * Reads `archive` once: members whose path `wanted` accepts are gathered whole and handed to
 * `visit` (synchronously, in archive order); all others are skipped unread.
 */
export function streamTarMembers(archive: string, wanted: (path: string) => boolean, visit: (m: TarMember) => void): Promise<TarPass> {
  return new Promise<TarPass>((resolve, reject) => {
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    const input = createReadStream(archive, { highWaterMark: 4 << 20 });
    let failed = false;
    let sawEnd = false;
    const stop = (err: unknown): void => {
      if (failed) return;
      failed = true;
      input.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const path = normalizeMemberPath(entry.path);
        if (failed || !isFile(entry) || !wanted(path)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          if (failed) return;
          try {
            visit({ path, bytes: new Uint8Array(Buffer.concat(chunks)) });
          } catch (err) {
            stop(err);
          }
        });
      },
    });
    // Two zero blocks end every tar archive; one cut at a member boundary shows no other sign.
    parser.on('eof', () => (sawEnd = true));
    parser.on('error', stop);
    input.on('error', stop);
    input.on('data', (c) => {
      sha.update(c as Buffer);
      md5.update(c as Buffer);
    });
    parser.on('close', () => {
      if (failed) return;
      if (!sawEnd) stop(new Error('the tar archive ends without its end-of-archive marker (truncated?)'));
      else resolve({ sha256: sha.digest('hex'), md5: md5.digest('hex') });
    });
    input.pipe(parser);
  });
}
