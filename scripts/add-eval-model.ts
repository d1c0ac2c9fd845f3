/**
 * Adds the models of one eval report to another without running the first one's models again: the added report's
 * first model (its baseline) must be a model of the base report (same id and hash); its other models, and their
 * comparisons with that baseline (paired over the added run's episodes), are appended; the command records both
 * runs. Says whether the shared baseline's closed loop came out the same in both runs (episode by episode).
 *
 *   npx tsx scripts/add-eval-model.ts docs/reports/strategies.json .tmp/multi-camera.json docs/reports/strategies.json docs/reports/strategies.html
 *   npx tsx scripts/add-eval-model.ts --rename-base=default=default-prev BASE.json RETRAINED.json OUT.json   # a retrained default beside the old
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { renderHtml } from "../eval/score/html.ts";
import { checkReport, type EvalReport } from "../eval/score/report.ts";

const argv = process.argv.slice(2);
const renameArg = argv.find((a) => a.startsWith("--rename-base="));
const [basePath, addPath, outJson, outHtml] = argv.filter((a) => !a.startsWith("--"));
if (!basePath || !addPath || !outJson) {
  process.stderr.write("usage: npx tsx scripts/add-eval-model.ts [--rename-base=OLD=NEW] BASE.json ADDED.json OUT.json [OUT.html]\n");
  process.exit(2);
}
/**
 * --rename-base=default=default-prev: the base report's model `default` (and every comparison naming it) is called
 * `default-prev` first, so that a retrained model of that name can be added beside the one it replaced.
 */
function renamed(r: EvalReport, spec: string | undefined): EvalReport {
  if (!spec) return r;
  const [from, to] = spec.slice("--rename-base=".length).split("=");
  if (!from || !to) throw new Error(`--rename-base wants OLD=NEW, not ${spec}`);
  if (!r.models.some((m) => m.model.id === from)) throw new Error(`--rename-base: no model ${from} in the base report`);
  const id = (x: string): string => (x === from ? to : x);
  return {
    ...r,
    command: `${r.command} ; then ${from} renamed ${to} by scripts/add-eval-model.ts`,
    models: r.models.map((m) => (m.model.id === from ? { ...m, model: { ...m.model, id: to } } : m)),
    comparisons: r.comparisons.map((c) => ({ ...c, model: id(c.model), baseline: id(c.baseline) })),
    ...(r.testSplit ? { testSplit: { ...r.testSplit, secondLooks: r.testSplit.secondLooks.map((l) => ({ ...l, model: id(l.model) })) } } : {}),
  };
}
const base = renamed(checkReport(JSON.parse(readFileSync(basePath, "utf8"))), renameArg);
const add = checkReport(JSON.parse(readFileSync(addPath, "utf8")));
const shared = add.models[0];
if (!shared) throw new Error(`${addPath} has no models`);
const inBase = base.models.find((m) => m.model.id === shared.model.id);
if (!inBase) throw new Error(`${addPath}'s baseline ${shared.model.id} is not a model of ${basePath} (${base.models.map((m) => m.model.id).join(", ")})`);
if (inBase.model.hash !== shared.model.hash) throw new Error(`${shared.model.id}: hash ${shared.model.hash} in ${addPath}, ${inBase.model.hash} in ${basePath}: not the same model`);
const added = add.models.slice(1).filter((m) => !base.models.some((b) => b.model.id === m.model.id));
if (!added.length) throw new Error(`${addPath} adds no model that ${basePath} lacks`);

// The shared baseline's closed loop in both runs, episode by episode (collisions, distance, route completion).
const episodes = (r: EvalReport["models"][number]): string =>
  JSON.stringify((r.closedLoop?.perEpisode ?? []).map((e) => [e.scenario, e.seed, e.collisions, Number(e.km.toFixed(3)), Number(e.routeCompletion.toFixed(4))]));
const same = episodes(inBase) === episodes(shared);
process.stderr.write(`${shared.model.id}'s closed loop ${same ? "is the same, episode by episode," : "DIFFERS"} in the two runs (collisions ${inBase.closedLoop?.collisions} vs ${shared.closedLoop?.collisions}, route completion ${inBase.closedLoop?.routeCompletion.toFixed(4)} vs ${shared.closedLoop?.routeCompletion.toFixed(4)})\n`);

const ids = new Set(added.map((m) => m.model.id));
const out: EvalReport = {
  ...base,
  command: `${base.command} ; then, added by scripts/add-eval-model.ts (${shared.model.id}'s closed loop ${same ? "the same" : "not the same"} in both runs): ${add.command}`,
  wallS: base.wallS + add.wallS,
  models: [...base.models, ...added],
  comparisons: [...base.comparisons, ...add.comparisons.filter((c) => ids.has(c.model))],
  ...(base.testSplit || add.testSplit
    ? {
        testSplit: {
          episodes: Math.max(base.testSplit?.episodes ?? 0, add.testSplit?.episodes ?? 0),
          secondLooks: [...(base.testSplit?.secondLooks ?? []), ...(add.testSplit?.secondLooks ?? []).filter((s) => ids.has(s.model))],
        },
      }
    : {}),
};
checkReport(out);
writeFileSync(`${outJson}.partial`, JSON.stringify(out, null, 2) + "\n");
renameSync(`${outJson}.partial`, outJson);
process.stderr.write(`wrote ${outJson}\n`);
if (outHtml) {
  writeFileSync(`${outHtml}.partial`, renderHtml(out));
  renameSync(`${outHtml}.partial`, outHtml);
  process.stderr.write(`wrote ${outHtml}\n`);
}
