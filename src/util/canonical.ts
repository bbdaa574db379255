// JSON with every mapping's keys sorted: equal values give equal text, whatever the key order.

export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

export const canonicalJson = (v: unknown): string => JSON.stringify(canonical(v));
