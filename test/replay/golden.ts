/**
 * The golden replay fixture: a short session recorded live (simulator → embedded MQTT broker → daemon)
 * in test/golden/, and the decisions replay must reproduce from it. What is compared and what is not
 * lives here, shared by the test (golden.test.ts) and the script that makes the files (make-golden.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runReplay, type ReplayReport } from "../../eval/run/replay.ts";

export const GOLDEN_DIR = fileURLToPath(new URL("../golden/", import.meta.url));
export const GOLDEN_RECORDING = `${GOLDEN_DIR}live-drive.mcap`;
export const GOLDEN_DECISIONS = `${GOLDEN_DIR}live-drive.decisions.json`;

/**
 * Fields that measure a run rather than decide anything: latency from the last input and from the capture
 * stamp (the instant of decision is the recorded one, but live measured it a little before recording it)
 * and inference time.
 * Everything else — action, probabilities, target speed, overrides, model, backend, seq, inputs — must match.
 */
export const GOLDEN_IGNORE = ["latency_ms", "sensor_to_decision_ms", "inference_ms"];
/** Absolute tolerance for numbers (probabilities from the wasm backend on another CPU may differ in the last bits). */
export const GOLDEN_TOLERANCE = 1e-5;

export interface GoldenReference {
  about: string;
  recording: string;
  model: { id: string; hash: string };
  ignore: string[];
  tolerance: number;
  /** Replayed decisions (JSON views), by frame stamp in ns. */
  decisions: Record<string, Record<string, unknown>>;
}

/** Replays a recording with --frames auto and gives the report and the decisions by frame stamp. */
export async function replayDecisions(file: string, model: string): Promise<{ report: ReplayReport; decisions: Map<string, Record<string, unknown>> }> {
  const decisions = new Map<string, Record<string, unknown>>();
  const report = await runReplay(file, {
    model,
    backend: "wasm",
    ignore: GOLDEN_IGNORE.join(","),
    tolerance: String(GOLDEN_TOLERANCE),
    quiet: true,
    onDecision: (key, d) => decisions.set(key, d),
  });
  return { report, decisions };
}

export function readReference(): GoldenReference {
  return JSON.parse(readFileSync(GOLDEN_DECISIONS, "utf8")) as GoldenReference;
}

export function writeReference(report: ReplayReport, decisions: ReadonlyMap<string, Record<string, unknown>>): void {
  const ref: GoldenReference = {
    about: "Decisions fusiond replay must reproduce from live-drive.mcap (test/replay/golden.test.ts). Regenerate: FUSIOND_UPDATE_REFS=1 npx mocha test/replay/golden.test.ts, or npx tsx test/replay/make-golden.ts --update-refs",
    recording: "live-drive.mcap",
    model: { id: report.model.id, hash: report.model.hash },
    ignore: GOLDEN_IGNORE,
    tolerance: GOLDEN_TOLERANCE,
    decisions: Object.fromEntries(decisions),
  };
  writeFileSync(GOLDEN_DECISIONS, JSON.stringify(ref, null, 1) + "\n");
}
