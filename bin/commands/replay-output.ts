/** What `fusiond replay` prints and writes, whoever ran the replays (this process or fleet workers). */
import type { ReplayOutcome } from "../../eval/fleet/run.ts";
import { bigintJson, type ReplayReport } from "../../eval/run/replay.ts";
import { writeTextOutput } from "../output-file.ts";

/** The summary line of one replay. */
export function replaySummary(report: ReplayReport): string {
  const c = report.comparison;
  return (
    `replayed ${report.recordedS.toFixed(1)} s in ${report.wallS.toFixed(1)} s (${report.speedX.toFixed(1)}× real time; ` +
    `startup ${report.startupS.toFixed(1)} s before it): ` +
    `${report.messages} messages, ${report.decisions} decisions` +
    (c ? `; vs live: ${c.identical}/${c.live} identical, ${c.differing} differ, ${c.missingInReplay} missing, ${c.extraInReplay} extra` : "; no live decisions recorded")
  );
}

export const REPLAY_SET_SCHEMA = "fusiond.replay-set/1";

/**
 * Writes what `fusiond replay` writes, whoever ran the replays: one recording → its report object; several
 * → fusiond.replay-set/1 (reports in file order, failures with their reason). Exit status 1 when one failed.
 */
export async function writeReplayOutputs(outcomes: readonly ReplayOutcome[], o: { out?: string; quiet: boolean }): Promise<void> {
  for (const x of outcomes) {
    if (!x.ok) process.stderr.write(`fusiond replay: ${x.file}: failed: ${x.reason}\n`);
    else if (!o.quiet) process.stderr.write(`${outcomes.length > 1 ? `${x.file}: ` : ""}${replaySummary(x.report)}\n`);
  }
  if (outcomes.some((x) => !x.ok)) process.exitCode = 1;
  if (!o.out) return;
  if (outcomes.length === 1) {
    const x = outcomes[0]!;
    if (x.ok) await writeTextOutput(o.out, JSON.stringify(x.report, bigintJson, 2) + "\n");
    return;
  }
  const set = {
    schema: REPLAY_SET_SCHEMA,
    reports: outcomes.flatMap((x) => (x.ok ? [x.report] : [])),
    failures: outcomes.flatMap((x) => (x.ok ? [] : [{ file: x.file, reason: x.reason }])),
  };
  await writeTextOutput(o.out, JSON.stringify(set, bigintJson, 2) + "\n");
}

