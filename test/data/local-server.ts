// A file server on 127.0.0.1 for the download tests: serves the bytes in `served` by URL path
// (404 otherwise) and records every requested path. Started in beforeAll, closed in afterAll.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export interface LocalServer {
  /** http://127.0.0.1:<port>, once started */
  base: string;
  /** bytes by path ("/mnist/x.gz") */
  served: Map<string, Uint8Array>;
  /** paths requested, in order */
  requests: string[];
}

export function useLocalServer(contentType: string, served = new Map<string, Uint8Array>()): LocalServer {
  const s: LocalServer = { base: '', served, requests: [] };
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      s.requests.push(req.url ?? '');
      const body = s.served.get(req.url ?? '');
      if (!body) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': contentType, 'content-length': body.length }).end(body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    s.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((ok) => server.close(() => ok()));
  });
  return s;
}
