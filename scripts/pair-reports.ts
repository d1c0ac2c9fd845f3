/**
 * Issue #20's closed-loop Numbers for a model run on its own against the rows of an earlier run on the same seeds:
 * the first model of NEW.json beside the named models of OLD.json, paired by episode (scenario and seed) with the
 * same bootstrap as `fusiond eval --compare` (eval/score/compare.ts) and printed as `npm run eval:fresh` prints
 * them (eval/score/fresh-numbers.ts). For a change that only the default sees (a decision rule, a serving choice):
 * the baselines, which do not change, are not run again.
 *
 *   npx tsx scripts/pair-reports.ts .tmp/eval/fresh-closed.json docs/reports/fresh-closed-loop.json classic camera-ego expert
 *   npx tsx scripts/pair-reports.ts NEW.json OLD.json default=default-before     # the earlier run's default, renamed
 */
import { readFileSync } from "node:fs";
import { compareClosedLoop } from "../eval/score/compare.ts";
import { closedLoopNumbers } from "../eval/score/fresh-numbers.ts";
import type { EvalReport } from "../eval/score/report.ts";

const [newPath, oldPath, ...wanted] = process.argv.slice(2);
if (!newPath || !oldPath || wanted.length === 0) {
  process.stderr.write("usage: npx tsx scripts/pair-reports.ts NEW.json OLD.json MODEL[=NAME]...\n  (NEW's first model against each MODEL of OLD, paired by episode)\n");
  process.exit(2);
}
function fail(why: string): never {
  process.stderr.write(`pair-reports: ${why}\n`);
  process.exit(1);
}
const read = (p: string): EvalReport => {
  try {
    return JSON.parse(readFileSync(p, "utf8")) as EvalReport;
  } catch (err) {
    return fail(`${p}: ${(err as Error).message} (give an eval report: fusiond eval --out FILE.json)`);
  }
};
const fresh = read(newPath);
const earlier = read(oldPath);
const first = fresh.models[0];
if (!first?.closedLoop) fail(`${newPath}: its first model has no closed loop (a report of fusiond eval --closed-loop)`);
const bo = { iterations: fresh.bootstrap?.iterations ?? 2000, level: fresh.bootstrap?.level ?? 0.95, seed: fresh.bootstrap?.seed ?? 1 };
const models: EvalReport["models"] = [first];
const comparisons: EvalReport["comparisons"] = [];
for (const w of wanted) {
  const [id, name = id] = w.split("=") as [string, string?];
  const m = earlier.models.find((x) => x.model.id === id);
  if (!m?.closedLoop) fail(`${oldPath}: no model ${id} with a closed loop (it has ${earlier.models.map((x) => x.model.id).join(", ")})`);
  if (name === first.model.id) fail(`${id} would be called ${name}, as ${newPath}'s model: rename it (${id}=${id}-before)`);
  const renamed = { ...m, model: { ...m.model, id: name } };
  models.push(renamed);
  comparisons.push(...compareClosedLoop({ baseline: first.model.id, model: name }, first.closedLoop.perEpisode, m.closedLoop.perEpisode, bo));
}
process.stdout.write(`${newPath} (\`${fresh.command}\`) against ${oldPath} (\`${earlier.command}\`)\n\n`);
process.stdout.write(closedLoopNumbers({ ...fresh, models, comparisons }, bo));
