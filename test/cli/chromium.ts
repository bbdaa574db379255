// Opens an HTML file in headless Chromium (Debian's `chromium`) and reports how the page rendered:
// console messages and errors, the requests it made, the size of every <svg>, and a full-page
// screenshot. Speaks the DevTools protocol over --remote-debugging-pipe (file descriptors 3 and 4,
// NUL-separated JSON), so it needs no WebSocket client and no npm package.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

/** $EVNN_CHROMIUM when set (null if it is no file), else Debian's chromium, else one on PATH; null when there is none. */
export function findChromium(): string | null {
  const given = process.env.EVNN_CHROMIUM;
  if (given) return existsSync(given) ? given : null;
  for (const c of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(c)) return c;
  }
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

export interface PageCheck {
  /** Console messages of level error, uncaught exceptions, and browser log entries of level error. */
  errors: string[];
  /** Every console message and log entry, "level: text". */
  messages: string[];
  /** URLs the page requested (the document itself included). */
  requests: string[];
  /** Each <svg> in document order: its figure's id and its rendered size in CSS pixels. */
  svgs: { figure: string | null; width: number; height: number }[];
  /** The page's full height in CSS pixels. */
  contentHeight: number;
}

type Message = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };

/** Loads `htmlFile` at `width` px wide, waits for the load event, measures, and writes a full-page PNG to `screenshot`. */
export async function checkPage(chromium: string, htmlFile: string, screenshot: string, width = 1200, height = 2000): Promise<PageCheck> {
  const profile = mkdtempSync(join(tmpdir(), 'evnn-chromium-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${profile}`,
    `--window-size=${width},${height}`, '--remote-debugging-pipe', 'about:blank',
  ];
  const child = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));

  let nextId = 1;
  const pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners: ((m: Message) => void)[] = [];
  let buffer = '';
  fromBrowser.on('data', (d: Buffer) => {
    buffer += d.toString('utf8');
    let nul: number;
    while ((nul = buffer.indexOf('\0')) >= 0) {
      const m = JSON.parse(buffer.slice(0, nul)) as Message;
      buffer = buffer.slice(nul + 1);
      if (m.id !== undefined && pending.has(m.id)) {
        const p = pending.get(m.id)!;
        pending.delete(m.id);
        if (m.error) p.reject(new Error(`chromium: ${m.error.message}`));
        else p.resolve(m.result ?? {});
      } else {
        for (const l of listeners) l(m);
      }
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  const failed = exited.then((code) => {
    throw new Error(`chromium exited (code ${code}) before the page was checked:\n${stderr.slice(-2000)}`);
  });
  const guard = <T>(p: Promise<T>) => Promise.race([p, failed]);

  const out: PageCheck = { errors: [], messages: [], requests: [], svgs: [], contentHeight: 0 };
  try {
    const { targetId } = (await guard(send('Target.createTarget', { url: 'about:blank' }))) as { targetId: string };
    const { sessionId } = (await guard(send('Target.attachToTarget', { targetId, flatten: true }))) as { sessionId: string };
    let loaded!: () => void;
    const load = new Promise<void>((res) => (loaded = res));
    listeners.push((m) => {
      if (m.sessionId !== sessionId || !m.params) return;
      const p = m.params as Record<string, any>;
      if (m.method === 'Page.loadEventFired') loaded();
      else if (m.method === 'Runtime.consoleAPICalled') {
        const text = (p.args as { value?: unknown; description?: string }[]).map((a) => String(a.value ?? a.description ?? '')).join(' ');
        out.messages.push(`${p.type}: ${text}`);
        if (p.type === 'error' || p.type === 'assert') out.errors.push(`console.${p.type}: ${text}`);
      } else if (m.method === 'Runtime.exceptionThrown') {
        out.errors.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
      } else if (m.method === 'Log.entryAdded') {
        out.messages.push(`${p.entry.level}: ${p.entry.text}`);
        if (p.entry.level === 'error') out.errors.push(`log: ${p.entry.text}${p.entry.url ? ` (${p.entry.url})` : ''}`);
      } else if (m.method === 'Network.requestWillBeSent') {
        out.requests.push(p.request.url as string);
      } else if (m.method === 'Network.loadingFailed') {
        out.errors.push(`request failed: ${p.errorText}`);
      }
    });
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await guard(send(`${domain}.enable`, {}, sessionId));
    await guard(send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId));
    const nav = (await guard(send('Page.navigate', { url: pathToFileURL(htmlFile).href }, sessionId))) as { errorText?: string };
    if (nav.errorText) throw new Error(`chromium could not open ${htmlFile}: ${nav.errorText}`);
    await guard(Promise.race([load, new Promise((_r, rej) => setTimeout(() => rej(new Error('no load event within 30 s')), 30_000))]));
    const measured = (await guard(send('Runtime.evaluate', {
      returnByValue: true,
      expression: `JSON.stringify({
        svgs: [...document.querySelectorAll('svg')].map((s) => { const r = s.getBoundingClientRect(); return { figure: s.closest('figure')?.id ?? null, width: r.width, height: r.height }; }),
        contentHeight: document.documentElement.scrollHeight })`,
    }, sessionId))) as { result: { value: string } };
    Object.assign(out, JSON.parse(measured.result.value));
    const shot = (await guard(send('Page.captureScreenshot', {
      format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width, height: out.contentHeight, scale: 1 },
    }, sessionId))) as { data: string };
    writeFileSync(screenshot, Buffer.from(shot.data, 'base64'));
    await send('Browser.close').catch(() => undefined);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  } finally {
    failed.catch(() => undefined);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  }
  return out;
}
