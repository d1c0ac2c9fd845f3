/**
 * The fleet's pure parts: job identity, and the merge — units run in any order, anywhere, their results
 * through JSON, merged into exactly the report the single-process run writes (timing fields aside).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeModelRunner, makeInputSpec } from "../../../fusion/index.ts";
import { ACTION_CLASSES } from "../../../eval/score/open-loop.ts";
import { MODALITIES, type Modality } from "../../../schemas/index.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { evalModelOf, type EvalModel } from "../../../eval/run/decider.ts";
import { evaluate, inProcessRunner, type EvalRunner, type EvaluateOptions } from "../../../eval/run/evaluate.ts";
import { memoryOpener, mergeOpenLoop, openLoopFile, runOpenLoop } from "../../../eval/run/open-loop.ts";
import { canonicalJson, identityOf, modelMeta, modelMismatch } from "../../../eval/fleet/identity.ts";
import { recordDrive } from "../eval-helpers.ts";
import { withoutTiming } from "./helpers.ts";

const oneHot = (action: string): number[] => ACTION_CLASSES.map((a) => (a === action ? 1 : 0));
const fake = (id: string, fn: (inputs: Record<string, Float32Array>) => string, modalities: Modality[] = [...MODALITIES]): EvalModel =>
  evalModelOf(new FakeModelRunner(makeInputSpec(modalities), (x) => oneHot(fn(x)), { id, now: () => performance.now(), maxBatch: 16, maxQueue: 64 }));
const RADAR = MODALITIES.indexOf("radar");


describe("fleet: identity and merge", function () {
  this.timeout(120_000);
  const specs = [{ ...scenariosOf("test")[2]!, durationS: 3 }, { ...scenariosOf("test")[4]!, durationS: 3 }];
  const files: Record<string, Uint8Array> = {};
  before(async () => {
    files["a.mcap"] = await recordDrive([specs[0]!], 3);
    files["b.mcap"] = await recordDrive([specs[1]!], 3);
  });

  it("a job's identity is its content: key order and paths do not matter, every input does", () => {
    assert.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: undefined }] }), '{"a":[2,{"d":3}],"b":1}');
    const job = { kind: "open-loop", recording: "ab12", model: { hash: "m1", specHash: "s1" }, mask: ["radar"] };
    assert.equal(identityOf(job), identityOf({ mask: ["radar"], model: { specHash: "s1", hash: "m1" }, recording: "ab12", kind: "open-loop" }));
    assert.notEqual(identityOf(job), identityOf({ ...job, mask: [] }));
    assert.notEqual(identityOf(job), identityOf({ ...job, model: { hash: "m2", specHash: "s1" } }));
    assert.match(identityOf(job), /^[0-9a-f]{32}$/);
  });

  it("a worker notices model files that changed since it last hashed them (same size, rewritten in place)", () => {
    const dir = mkdtempSync(join(tmpdir(), "fusiond-model-"));
    try {
      writeFileSync(join(dir, "model.json"), '{"format":"layers-model"}');
      writeFileSync(join(dir, "weights.bin"), Buffer.alloc(4096, 1));
      writeFileSync(join(dir, "input-spec.json"), JSON.stringify(makeInputSpec([...MODALITIES])));
      writeFileSync(join(dir, "card.json"), '{"name":"m","strategy":"test"}');
      const ref = modelMeta(dir).ref;
      assert.equal(modelMismatch(ref), undefined);
      assert.equal(modelMismatch(ref), undefined); // files this new are hashed again on every check (identity.ts: SETTLED_MS)
      writeFileSync(join(dir, "weights.bin"), Buffer.alloc(4096, 2));
      assert.match(modelMismatch(ref) ?? "", new RegExp(`model files at ${dir} on this worker are hash (?!${ref.hash})[0-9a-f]{16} .*planned with ${ref.hash}`));
      writeFileSync(join(dir, "input-spec.json"), JSON.stringify(makeInputSpec(["camera"])));
      writeFileSync(join(dir, "weights.bin"), Buffer.alloc(4096, 1));
      assert.match(modelMismatch(ref) ?? "", /\(spec [0-9a-f]{16}\), the run was planned with/);
      assert.notEqual(modelMeta(dir).ref.specHash, ref.specHash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("open loop per file, merged, is runOpenLoop over all files (whatever path the part was computed under)", async () => {
    const model = () => fake("ttc", (x) => (x["presence"]![RADAR] === 1 ? "KEEP" : "DECELERATE"));
    const open = memoryOpener(files);
    const whole = await runOpenLoop(["a.mcap", "b.mcap"], model(), { mask: [], open });
    // Part b computed under another name (another machine's mount), through JSON.
    const other = memoryOpener({ "/mnt/x/b.mcap": files["b.mcap"]! });
    const pa = JSON.parse(JSON.stringify(await openLoopFile("a.mcap", model(), { mask: [], open })));
    const pb = JSON.parse(JSON.stringify(await openLoopFile("/mnt/x/b.mcap", model(), { mask: [], open: other })));
    const merged = mergeOpenLoop(["a.mcap", "b.mcap"], [pa, pb], { mask: [] });
    const strip = (r: unknown) => JSON.parse(JSON.stringify(r), (k, v: unknown) => (k === "inferenceMs" || k === "totalMs" ? undefined : v));
    assert.deepEqual(strip(merged.report), strip(whole.report));
    assert.equal(merged.records.length, whole.records.length);
  });

  it("evaluate() on a runner that runs every unit at once, out of order, through JSON, gives the single-process report", async () => {
    const models: Record<string, () => EvalModel> = {
      cam: () => fake("cam", () => "KEEP", ["camera"]),
      fused: () => fake("fused", (x) => (x["presence"]![RADAR] === 1 ? "KEEP" : "DECELERATE")),
    };
    const base: EvaluateOptions = {
      models: ["cam", "fused"],
      data: ["a.mcap", "b.mcap"],
      scenarios: specs.map((s) => ({ ...s, durationS: 2 })),
      suiteName: "test",
      ablation: true,
      baselines: ["cam"],
      backend: "cpu",
      maskUnused: true,
      bootstrap: { iterations: 300, level: 0.95, seed: 7 },
      parallel: 2,
      transport: "in-process",
      command: "test",
      version: "0",
      load: async (dir) => models[dir]!(),
      openLoopOptions: { open: memoryOpener(files) },
    };
    const single = await evaluate(base);
    // A "fleet": concurrent, each unit alone with a fresh model, results reversed in time and JSON round-tripped.
    const inner = inProcessRunner(base);
    const roundTrip = <T,>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
    const fleet: EvalRunner = {
      concurrent: true,
      model: (dir) => inner.model(dir),
      release: (m) => inner.release(m),
      async openLoop(fs, m, s) {
        const out = await Promise.all([...fs].reverse().map(async (f) => (await inner.openLoop([f], await inner.model(m.info.dir), s))[0]!));
        return roundTrip(out.reverse());
      },
      async closedLoop(ss, m, s) {
        const out = await Promise.all(ss.map(async (sp) => (await inner.closedLoop([sp], await inner.model(m.info.dir), { ...s, parallel: 1 }))[0]!));
        return roundTrip(out);
      },
    };
    const spread = await evaluate({ ...base, runner: fleet });
    assert.deepEqual(withoutTiming(spread.report), withoutTiming(single.report));
    assert.ok(single.report.comparisons.length > 0 && single.report.models[0]!.ablation!.length >= 2);
  });

  it("a unit that fails is listed with its reason and left out; the rest is scored", async () => {
    const { report } = await evaluate({
      models: ["m"],
      data: ["a.mcap", "missing.mcap"],
      scenarios: [],
      suiteName: "test",
      ablation: false,
      baselines: [],
      backend: "cpu",
      maskUnused: true,
      bootstrap: { iterations: 10, level: 0.95, seed: 1 },
      parallel: 1,
      transport: "in-process",
      command: "test",
      version: "0",
      load: async () => fake("m", () => "KEEP"),
      openLoopOptions: { open: async (f) => { if (!files[f]) throw new Error(`${f}: not an MCAP file`); return memoryOpener(files)(f); } },
    });
    assert.deepEqual(report.openLoop!.data.files, ["a.mcap"]);
    assert.deepEqual(report.failures, [{ kind: "open-loop", model: "m", unit: "missing.mcap", reason: "missing.mcap: not an MCAP file" }]);
  });
});
