// Test helpers for Fashion-MNIST: a file server on 127.0.0.1 that honours `Range: bytes=N-`
// (for the resumable download) and records each request with its range, and the MD5 table of a
// set of served files (the published MD5s cannot match synthetic fixtures, so tests inject theirs).
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { MNIST_INPUTS } from '../../src/data/mnist-files.js';
import type { MnistInputName } from '../../src/data/types.js';

export interface RangeServer {
  base: string;
  served: Map<string, Uint8Array>;
  /** "path" or "path bytes=N-" per request, in order */
  requests: string[];
  /** When true, range requests are answered with the whole file (HTTP 200). */
  ignoreRanges: boolean;
}

export function useRangeServer(served = new Map<string, Uint8Array>()): RangeServer {
  const s: RangeServer = { base: '', served, requests: [], ignoreRanges: false };
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '';
      const range = req.headers.range;
      s.requests.push(range ? `${path} ${range}` : path);
      const body = s.served.get(path);
      if (!body) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const m = range && !s.ignoreRanges ? /^bytes=(\d+)-$/.exec(range) : null;
      if (m) {
        const from = Number(m[1]);
        if (from >= body.length) {
          res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
          return;
        }
        res.writeHead(206, { 'content-type': 'application/gzip', 'content-length': body.length - from, 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` });
        res.end(body.subarray(from));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length }).end(body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    s.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((ok) => server.close(() => ok()));
  });
  return s;
}

export const md5Hex = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** MD5 of each input's served .gz bytes, for an injectable checksum table. */
export function md5Table(gz: Readonly<Record<MnistInputName, Uint8Array>>): Record<MnistInputName, string> {
  const out = {} as Record<MnistInputName, string>;
  for (const input of MNIST_INPUTS) out[input] = md5Hex(gz[input]);
  return out;
}
