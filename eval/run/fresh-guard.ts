/**
 * Fresh-seed drives (seeds in FRESH_RESERVED, eval/run/scenarios.ts) are kept for figures nobody tuned on:
 * `fusiond train` refuses them as training or validation data. A simulator recording names its seed in its
 * "fusiond" metadata record (sim/dataset-writer.ts).
 */
import { fileSource, McapRecording } from "../../replay/index.ts";
import { FRESH_RESERVED } from "./scenarios.ts";

export const isFreshSeed = (seed: number): boolean => seed >= FRESH_RESERVED.from && seed <= FRESH_RESERVED.to;

/** The seed a simulator recording was made with, or undefined (not from `fusiond sim`, or no metadata). */
export async function recordingSeed(file: string, open = async (f: string) => McapRecording.open(await fileSource(f))): Promise<number | undefined> {
  const rec = await open(file);
  const md = await rec.metadata().finally(() => rec.close()).then((m) => m.get("fusiond"));
  const seed = md?.get("source") === "fusiond sim" ? Number(md.get("seed")) : NaN;
  return Number.isInteger(seed) ? seed : undefined;
}

/** The files among these that are fresh-seed drives. */
export async function freshRecordings(files: readonly string[], open?: (f: string) => Promise<McapRecording>): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const seed = await recordingSeed(f, open);
    if (seed !== undefined && isFreshSeed(seed)) out.push(f);
  }
  return out;
}
