/** `--rotate` of `fusiond record`: when the recorder starts a new file, from a size or a duration in words. */
import { FusiondError } from "../schemas/index.ts";
import type { RotateOptions } from "./recorder.ts";

/** "500MB", "2GB", "64k" → bytes; "90s", "10m", "1h", "30" (s) → ns. */
export function parseRotate(text: string): RotateOptions {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m?.[2]?.toLowerCase() ?? "";
  const n = Number(m?.[1]);
  const bytes: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };
  const secs: Record<string, number> = { "": 1, s: 1, min: 60, h: 3600 };
  if (m && unit in bytes && unit !== "m") return { maxBytes: Math.round(n * bytes[unit]!) };
  if (m && unit === "m") return { maxDurationNs: BigInt(Math.round(n * 60e9)) }; // minutes: "10m"
  if (m && unit in secs) return { maxDurationNs: BigInt(Math.round(n * secs[unit]! * 1e9)) };
  throw new FusiondError("bad_option", `--rotate takes a size (500MB, 2GB) or a duration (90s, 10m, 1h), not "${text}"`);
}
