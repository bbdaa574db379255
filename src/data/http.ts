// Fetching a dataset's official files: URL joining and a bounded-time download of one file.
export function joinUrl(base: string, name: string): string {
  return new URL(name, base.endsWith('/') ? base : `${base}/`).toString();
}

export async function fetchBytes(url: string, timeoutMs: number): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  return new Uint8Array(await response.arrayBuffer());
}
