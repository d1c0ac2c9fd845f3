/** Where `fusiond eval` (and `fusiond fleet resume` of an eval run) puts its report: files, stdout, the exit status. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { renderHtml } from "../../eval/score/html.ts";
import type { EvalReport } from "../../eval/score/report.ts";
import { summaryText } from "../../eval/score/summary.ts";
import type { RunOutputs } from "../../eval/fleet/run.ts";
import { writeTextOutput } from "../output-file.ts";

/**
 * Writes the report where asked — each file whole or not at all (bin/output-file.ts), - for stdout — prints the
 * summary (or the JSON) unless a report went to stdout, and sets the exit status (1: a unit failed).
 */
export async function writeEvalOutputs(report: EvalReport, o: RunOutputs, log: (s: string) => void): Promise<void> {
  const write = async (path: string, text: string): Promise<void> => {
    if (path !== "-") mkdirSync(dirname(path), { recursive: true });
    await writeTextOutput(path, text);
    if (path !== "-") log(`wrote ${path}`);
  };
  for (const f of report.failures ?? []) log(`failed: ${f.kind} ${f.model} ${f.unit}: ${f.reason}`);
  if (report.failures?.length) process.exitCode = 1;
  if (o.out) await write(o.out, JSON.stringify(report, null, 2) + "\n");
  if (o.html) await write(o.html, renderHtml(report));
  if (o.out !== "-" && o.html !== "-") process.stdout.write(o.json ? JSON.stringify(report, null, 2) + "\n" : summaryText(report));
}
