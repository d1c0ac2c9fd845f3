/**
 * The direction of imports from docs/architecture.md §3, checked mechanically in `npm test`.
 * schemas → nothing of ours; domain → schemas; sensors/pipeline/replay → schemas; fusion/sim → schemas, domain;
 * eval → the layers below it (not bin/); pipeline receives transports, models and recorders injected;
 * nothing imports bin/, test/ or bench/.
 */
const layer = (from, allowed) => ({
  name: `${from}-imports-only-${allowed.join("-") || "nothing"}`,
  severity: "error",
  comment: `${from}/ may import only ${allowed.length ? allowed.map((a) => a + "/").join(", ") : "nothing of ours"} (docs/architecture.md §3)`,
  from: { path: `^${from}/` },
  to: {
    path: "^(schemas|domain|sensors|pipeline|fusion|replay|sim|eval|bin|test|bench|scripts|examples)/",
    pathNot: [`^${from}/`, ...allowed.map((a) => `^${a}/`)],
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
