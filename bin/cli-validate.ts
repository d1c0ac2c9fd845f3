/**
 * Value checks for commander options and arguments. Each returns the text unchanged when it is valid (so a
 * command's flag types stay strings) and throws commander's InvalidArgumentError naming the rule otherwise;
 * the error path (cli-errors.ts) turns that into `--lr must be a number > 0, not "abc"`.
 *
 *   .option("--lr <x>", "learning rate", number({ gt: 0 }), "0.002")
 *   .option("--compression <c>", "...", oneOf(["zstd", "lz4", "none"]), "zstd")
 */
import { statSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import { UsageError } from "./cli-errors.ts";

export type Check = (value: string) => string;

export interface NumberRule {
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive lower bound (e.g. > 0). */
  gt?: number;
  integer?: boolean;
}

/** The rule in words, e.g. "a whole number from 1 to 8", "a number > 0". */
export function describeNumber(r: NumberRule): string {
  const what = r.integer ? "a whole number" : "a number";
  if (r.min !== undefined && r.max !== undefined) return `${what} from ${r.min} to ${r.max}`;
  const parts = [r.gt !== undefined ? `> ${r.gt}` : r.min !== undefined ? `≥ ${r.min}` : "", r.max !== undefined ? `≤ ${r.max}` : ""].filter(Boolean);
  return parts.length ? `${what} ${parts.join(" and ")}` : what;
}

/** True when `text` is a number that keeps the rule. */
export function keepsNumber(text: string, r: NumberRule): boolean {
  if (text.trim() === "") return false;
  const n = Number(text);
  if (!Number.isFinite(n)) return false;
  if (r.integer && !Number.isInteger(n)) return false;
  if (r.min !== undefined && n < r.min) return false;
  if (r.max !== undefined && n > r.max) return false;
  if (r.gt !== undefined && !(n > r.gt)) return false;
  return true;
}

export function number(rule: NumberRule = {}): Check {
  return (v) => {
    if (!keepsNumber(v, rule)) throw new InvalidArgumentError(describeNumber(rule));
    return v;
  };
}

/** Seconds, e.g. --duration: a number > 0 (or ≥ 0 with `{ min: 0 }`). */
export const seconds = (rule: NumberRule = { gt: 0 }): Check => number(rule);

export function oneOf(choices: readonly string[]): Check {
  return (v) => {
    if (!choices.includes(v)) throw new InvalidArgumentError(`one of ${choices.join(", ")}`);
    return v;
  };
}

/** A comma-separated list whose items are all among `choices`. */
export function listOf(choices: readonly string[]): Check {
  return (v) => {
    const items = v.split(",").map((s) => s.trim());
    const bad = items.filter((s) => !choices.includes(s));
    if (!items.length || bad.length) throw new InvalidArgumentError(`a comma-separated list of ${choices.join(", ")} (${bad.join(", ") || "empty"} unknown)`);
    return v;
  };
}

/** HOST:PORT with a port from 0 to 65535 (or `off` where allowed). */
export function hostPort(o: { off?: boolean } = {}): Check {
  return (v) => {
    if (o.off && v === "off") return v;
    const m = /^(.*):(\d+)$/.exec(v);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !m[1] || port > 65535) throw new InvalidArgumentError(`HOST:PORT with a port from 0 to 65535${o.off ? ", or off" : ""}`);
    return v;
  };
}

/** A repeatable option's values, in order (commander's argParser for `--x a --x b`). */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** `--foxglove [HOST:]PORT`: a bare port listens on loopback. */
export const foxgloveListen = (v: string): string => (/^\d+$/.test(v) ? `127.0.0.1:${v}` : v);

/** An existing regular file (checked now, so the error names the path before anything starts). */
export const existingFile: Check = (v) => {
  let st;
  try {
    st = statSync(v);
  } catch {
    throw new InvalidArgumentError("an existing file (there is none at that path)");
  }
  if (st.isDirectory()) throw new InvalidArgumentError("a file (that path is a directory)");
  return v;
};

/** Cross-flag check: an --end after --start (both seconds from the first message). */
export function checkRange(start: string | undefined, end: string | undefined): void {
  if (start === undefined || end === undefined) return;
  if (Number(end) <= Number(start)) throw new UsageError(`--end (${end} s) must be after --start (${start} s)`, "give --end greater than --start, both in seconds from the first message");
}
