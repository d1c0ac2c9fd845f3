/**
 * The direction of imports from docs/architecture.md §3, checked mechanically in `npm test`.
 * schemas → nothing of ours; domain → schemas; sensors/pipeline/replay → schemas; fusion/sim → schemas, domain;
 * eval → the layers below it (not bin/), and inside it score/ (pure scoring) → schemas, domain, fusion/train/metrics.ts,
 * sim/score.ts; run/ → not fleet/; train (training runs: recordings read, aligned and labelled with sim's maps) →
 * schemas, domain, pipeline, fusion, replay, sim;
 * pipeline receives transports, models and recorders injected; bin/commands/ (the composition roots) is imported by
 * no other part of bin/ but main.ts; nothing imports bin/, test/ or bench/.
 */
const layer = (from, allowed) => ({
  name: `${from}-imports-only-${allowed.join("-") || "nothing"}`,
  severity: "error",
  comment: `${from}/ may import only ${allowed.length ? allowed.map((a) => (a.endsWith(".ts") ? a : a + "/")).join(", ") : "nothing of ours"} (docs/architecture.md §3)`,
  from: { path: `^${from}/` },
  to: {
    path: "^(schemas|domain|sensors|pipeline|fusion|replay|sim|eval|train|bin|test|bench|scripts|examples)/",
    // An allowed entry is a folder, or one file (pure code another layer owns, e.g. a metrics module).
    pathNot: [`^${from}/`, ...allowed.map((a) => (a.endsWith(".ts") ? `^${a.replace(/\./g, "\\.")}$` : `^${a}/`))],
  },
});

module.exports = {
  forbidden: [
    layer("schemas", []),
    layer("domain", ["schemas"]),
    layer("sensors", ["schemas"]),
    layer("pipeline", ["schemas"]),
    layer("fusion", ["schemas", "domain"]),
    layer("replay", ["schemas"]),
    layer("sim", ["schemas", "domain"]),
    layer("eval", ["schemas", "domain", "sensors", "pipeline", "fusion", "replay", "sim"]),
    // Training runs read recordings (replay/), align them as the daemon does (pipeline/), label them with the
    // scenario's map (sim/) and train with fusion/'s pure code; no transports, no evaluation.
    layer("train", ["schemas", "domain", "pipeline", "fusion", "replay", "sim"]),
    // Scores are pure functions of results: they do not run anything. They share training's classification
    // metrics (one module) and read the simulator's episode score type.
    layer("eval/score", ["schemas", "domain", "fusion/train/metrics.ts", "sim/score.ts"]),
    {
      name: "eval-run-not-fleet",
      severity: "error",
      comment: "eval/run/ runs units in this process; eval/fleet/ distributes them and may import run/, not the other way (docs/architecture.md §3)",
      from: { path: "^eval/run/" },
      to: { path: "^eval/fleet/" },
    },
    {
      name: "bin-commands-are-roots",
      severity: "error",
      comment: "bin/commands/ are composition roots: the daemon, the fleet worker and other bin/ code do not import them; shared code goes below bin/ (docs/architecture.md §3)",
      from: { path: "^bin/", pathNot: ["^bin/commands/", "^bin/main\\.ts$"] },
      to: { path: "^bin/commands/" },
    },
    {
      name: "nothing-imports-bin-test-bench",
      severity: "error",
      from: { pathNot: "^(bin|test|bench)/" },
      to: { path: "^(bin|test|bench)/" },
    },
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
