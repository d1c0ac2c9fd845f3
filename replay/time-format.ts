/** Times for people, beside the nanoseconds that stay the record. */

/** ns since the epoch → ISO 8601 UTC with nanoseconds, e.g. 2023-11-14T22:13:20.000000005Z. */
export function isoNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString(); // ...T22:13:20.000Z
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, "0");
  return `${base.slice(0, 19)}.${frac}Z`;
}
