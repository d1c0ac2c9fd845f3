/**
 * The benchmark harness. Each `bench/<area>.bench.ts` default-exports a `BenchSuite`; `npm run bench`
 * runs them all (or those named: `npm run bench -- transport aligner`) and prints each figure beside
 * the raw baseline measured in the same run, as a ratio. Benchmarks are not tests: nothing fails on a
 * slow machine. `--json FILE` also writes the rows as JSON.
 */
export interface BenchRow {
  /** What was measured, e.g. "mqtt source 4 KB". */
  name: string;
  value: number;
  unit: string;
  /** The raw baseline measured in the same run, e.g. "bare mqtt.js 4 KB". */
  baseline?: { name: string; value: number };
  /** ratio = value / baseline.value, or baseline.value / value when lower is better. */
  lowerIsBetter?: boolean;
  /** A goal to print beside the ratio, e.g. "≥ 0.8× bare". */
  goal?: string;
  note?: string;
}

export interface BenchSuite {
  name: string;
  description: string;
  run(log: (line: string) => void): Promise<BenchRow[]>;
}

export function ratioOf(row: BenchRow): number | undefined {
  if (!row.baseline || row.baseline.value === 0 || row.value === 0) return undefined;
  return row.lowerIsBetter ? row.baseline.value / row.value : row.value / row.baseline.value;
}

const fmt = (v: number): string =>
  Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : Math.abs(v) >= 0.01 ? v.toFixed(3) : v.toExponential(2);

/** Renders rows as an aligned table (markdown-compatible). */
export function formatRows(rows: BenchRow[]): string {
  const head = ["measure", "value", "baseline", "baseline value", "ratio", "goal"];
  const body = rows.map((r) => {
    const ratio = ratioOf(r);
    return [
      r.name,
      `${fmt(r.value)} ${r.unit}`,
      r.baseline?.name ?? "-",
      r.baseline ? `${fmt(r.baseline.value)} ${r.unit}` : "-",
      ratio === undefined ? "-" : `${ratio.toFixed(2)}×`,
      r.goal ?? "",
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** Median of a sample. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The q-quantile (0..1) of a sample, nearest-rank. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
