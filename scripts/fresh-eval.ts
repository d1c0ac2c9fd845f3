/**
 * Issue #20's comparison on fresh seeds (outside every suite: eval/run/scenarios.ts FRESH_SEEDS), one command:
 *
 *   npm run eval:fresh                          # drives, closed loop, open loop, numbers
 *   npm run eval:fresh -- --drives 24           # open loop on the first 24 fresh drives only (2 h), e.g. a quick look
 *   npm run eval:fresh -- --skip-closed-loop    # (or --skip-open-loop) one half
 *   npm run eval:fresh -- --open-loop-compare models/camera-ego,classic   # open loop of others too, paired
 *
 * 1. writes the fresh open-loop drives that are missing (fusiond sim --seed S --duration 300, .tmp/fresh/);
 * 2. closed loop: fusiond eval --model models/default --compare classic models/camera-ego expert
 *    --closed-loop --seeds fresh --duration 60 (100 episodes) → .tmp/fresh-eval/closed-loop.json;
 * 3. open loop: fusiond eval --model models/default [--compare ...] --data <drives> → .tmp/fresh-eval/open-loop.json
 *    (the Numbers ask the default's macro-F1; each compared model adds about as long again);
 * 4. the Numbers and the error analysis (eval/score/fresh-numbers.ts) → .tmp/fresh-eval/numbers.md (and stdout).
 * An existing report is reused when its command is the same (delete it to rerun). CPU heavy: run it under nice.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { FRESH_SEEDS, parseSeeds } from "../eval/run/scenarios.ts";
import { closedLoopNumbers, errorAnalysis, openLoopNumbers } from "../eval/score/fresh-numbers.ts";
import { checkReport, type EvalReport } from "../eval/score/report.ts";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const drivesDir = opt("--drives-dir") ?? join(".tmp", "fresh");
const outDir = opt("--out") ?? join(".tmp", "fresh-eval");
const all = parseSeeds(FRESH_SEEDS.openLoop);
const drives = all.slice(0, Number(opt("--drives") ?? all.length));
const duration = opt("--duration") ?? "60";
const bootstrapN = Number(opt("--bootstrap") ?? 2000);
mkdirSync(drivesDir, { recursive: true });
mkdirSync(outDir, { recursive: true });
const log = (s: string): void => void process.stderr.write(`fresh-eval: ${s}\n`);
const fusiond = (argv: string[]): void => {
  const r = spawnSync(process.execPath, ["bin/fusiond.js", ...argv], { stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error(`fusiond ${argv.slice(0, 3).join(" ")} … exited ${r.status}`);
};

const files = drives.map((s) => join(drivesDir, `fresh-${s}.mcap`));
drives.forEach((s, i) => {
  if (existsSync(files[i]!)) return;
  log(`drive ${s} (${i + 1}/${drives.length})`);
  fusiond(["sim", "--seed", String(s), "--duration", String(FRESH_SEEDS.openLoopDurationS), "--out", files[i]!, "--quiet"]);
});

/** Runs `fusiond eval` unless `out` already holds a report of the same command. */
function evalReport(out: string, argv: string[]): EvalReport {
  const command = `fusiond ${argv.join(" ")}`;
  if (existsSync(out)) {
    const r = checkReport(JSON.parse(readFileSync(out, "utf8")));
    if (r.command === command) return (log(`reusing ${out}`), r);
  }
  log(`${command} (load ${loadavg().map((l) => l.toFixed(1)).join(" ")})`);
  fusiond(argv);
  return checkReport(JSON.parse(readFileSync(out, "utf8")));
}

const bo = { iterations: bootstrapN, level: 0.95, seed: 1 };
const parts: string[] = [`# Issue #20's numbers on fresh seeds (${new Date().toISOString()})\n`];
if (!args.includes("--skip-closed-loop")) {
  const out = join(outDir, "closed-loop.json");
  const r = evalReport(out, ["eval", "--model", "models/default", "--compare", "classic", "models/camera-ego", "expert", "--closed-loop", "--seeds", FRESH_SEEDS.closedLoop, "--duration", duration, "--quiet", "--out", out]);
  parts.push(`## Closed loop: ${r.closedLoop?.episodes ?? 0} episodes × ${duration} s, seeds ${FRESH_SEEDS.closedLoop}\n\n\`${r.command}\` (${r.wallS.toFixed(0)} s)\n`, closedLoopNumbers(r, bo));
}
if (!args.includes("--skip-open-loop")) {
  const out = join(outDir, "open-loop.json");
  const compare = (opt("--open-loop-compare") ?? "").split(",").filter(Boolean);
  const r = evalReport(out, ["eval", "--model", "models/default", ...(compare.length ? ["--compare", ...compare] : []), "--data", ...files, "--quiet", "--out", out]);
  const first = r.models[0]!;
  parts.push(`## Open loop: ${files.length} drives × ${FRESH_SEEDS.openLoopDurationS} s, seeds ${drives[0]}–${drives.at(-1)}\n\n\`fusiond eval --model models/default${compare.length ? ` --compare ${compare.join(" ")}` : ""} --data ${drivesDir}/fresh-*.mcap\` (${r.wallS.toFixed(0)} s)\n`, openLoopNumbers(r));
  for (const c of r.comparisons.filter((c) => c.metric === "openLoop.macroF1")) parts.push(`${c.model} − ${c.baseline} macro-F1: ${c.difference?.toFixed(3)} [${c.ci[0]?.toFixed(3)}, ${c.ci[1]?.toFixed(3)}] (paired by episode)`);
  if (first.openLoop) parts.push(`\n## Error analysis\n\n${errorAnalysis(first.openLoop, first.model.id)}`);
}
const text = parts.join("\n") + "\n";
writeFileSync(join(outDir, "numbers.md"), text);
process.stdout.write(text);
