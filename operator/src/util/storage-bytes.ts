// Storage quantities ("1Gi", "500M", "1.5Gi", "2e9") as bytes, to compare a volume's size with storage.size. The API
// server has already checked the syntax (admission); anything this cannot read is undefined, never a guess.

const BINARY: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  m: 1e-3,
};

/** Bytes in a Kubernetes quantity, or undefined when it is not one. */
export function storageBytes(quantity: string): number | undefined {
  const m = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?)$/.exec(
    quantity.trim(),
  );
  if (m === null) return undefined;
  const [, digits = '', exponent, suffix = ''] = m;
  const factor =
    exponent !== undefined ? 10 ** Number(exponent.slice(1)) : (BINARY[suffix] ?? DECIMAL[suffix]);
  if (factor === undefined) return undefined;
  // A volume holds whole bytes; the API server rounds a fractional byte count up, and so does this.
  return Math.ceil(Number(digits) * factor);
}
