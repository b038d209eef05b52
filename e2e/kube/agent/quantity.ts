// Kubernetes resource quantities ("500m", "128Mi", "1G", "2") as plain numbers, enough for the downward API.

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function parseQuantity(q: string): number {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  const factor = m === null ? undefined : SUFFIX[m[2] ?? ''];
  if (m === null || factor === undefined || Number.isNaN(Number(m[1])))
    throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  return Number(m[1]) * factor;
}
