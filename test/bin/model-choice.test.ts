/**
 * The model `fusiond run` and `fusiond demo` load when none is named (issue 16): the shipped one whose camera slots are
 * the configured cameras (pipeline/model-choice.ts), read from models/; --model or the config's model.dir always wins.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { configFromFlags } from "../../bin/commands/run.ts";
import { demoModel } from "../../bin/commands/demo.ts";
import { shippedModels } from "../../bin/daemon/shipped-models.ts";
import { chooseModel, type ShippedModel } from "../../pipeline/model-choice.ts";

const ALL = ["camera", "radar", "gnss", "ego", "voice"];
const FOUR = ["front", "rear", "left", "right"];
const SHIPPED: ShippedModel[] = [
  { dir: "models/default", cameras: undefined, modalities: ALL },
  { dir: "models/multi-camera", cameras: FOUR, modalities: ALL },
];

describe("the shipped models as read from models/", () => {
  it("the default has no camera slots, multi-camera has the simulator's four", () => {
    const shipped = shippedModels();
    assert.equal(shipped.find((m) => m.dir === "models/default")?.cameras, undefined);
    assert.deepEqual(shipped.find((m) => m.dir === "models/multi-camera")?.cameras, FOUR);
    assert.equal(chooseModel(FOUR, shipped).dir, "models/multi-camera");
    assert.equal(chooseModel(undefined, shipped).dir, "models/default");
  });
});

describe("fusiond run / demo: the model chosen where none is named", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-model-choice-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const mqtt = "mqtt://127.0.0.1:1883";

  it("run --cameras front,rear,left,right takes models/multi-camera; no cameras, models/default; --model always wins", () => {
    const four = configFromFlags({ mqtt, cameras: "front,rear,left,right" }, {}, () => SHIPPED);
    assert.equal(four.config.model.dir, "models/multi-camera");
    assert.deepEqual(four.config.aligner.cameras, FOUR);
    assert.match(four.modelChoice?.why ?? "", /camera slots/);
    const none = configFromFlags({ mqtt }, {}, () => SHIPPED);
    assert.equal(none.config.model.dir, "models/default");
    assert.ok(none.modelChoice);
    const named = configFromFlags({ mqtt, cameras: "front,rear,left,right", model: "models/default" }, {}, () => SHIPPED);
    assert.equal(named.config.model.dir, "models/default");
    assert.equal(named.modelChoice, undefined);
  });

  it("run --config: aligner.cameras in the file choose the model unless the file's model.dir names one", () => {
    const cams = join(dir, "cams.yaml");
    writeFileSync(cams, `mqtt:\n  url: ${mqtt}\naligner:\n  cameras: [front, rear, left, right]\nmodel:\n  backend: wasm\n`);
    const chosen = configFromFlags({ config: cams }, {}, () => SHIPPED);
    assert.equal(chosen.config.model.dir, "models/multi-camera");
    assert.equal(chosen.config.model.backend, "wasm");
    const pinned = join(dir, "pinned.yaml");
    writeFileSync(pinned, `mqtt:\n  url: ${mqtt}\naligner:\n  cameras: [front, rear, left, right]\nmodel:\n  dir: models/default\n`);
    assert.equal(configFromFlags({ config: pinned }, {}, () => SHIPPED).config.model.dir, "models/default");
  });

  it("fusiond demo --cameras front,rear,left,right runs models/multi-camera, logs why, and prints the replay with it", function () {
    this.timeout(120_000);
    const out = join(dir, "demo4");
    const demo = spawnSync(process.execPath, [resolve("bin/fusiond.js"), "demo", "--cameras", "front,rear,left,right", "--duration", "2", "--quiet", "--json", "--out", out], { encoding: "utf8" });
    assert.equal(demo.status, 0, demo.stderr);
    const summary = JSON.parse(demo.stdout) as { replay: string; decisions: number };
    assert.match(summary.replay, /--model models\/multi-camera$/);
    assert.ok(summary.decisions > 10, `${summary.decisions} decisions`);
    const log = readFileSync(join(out, readdirSync(out).find((f) => f.endsWith(".log"))!), "utf8");
    assert.match(log, /model models\/multi-camera chosen \(none named\): its camera slots \[front, rear, left, right\] are the configured cameras/);
  });

  it("fusiond demo --model models/default --cameras front,rear,left,right runs the named model and warns that it fuses the front camera only", function () {
    this.timeout(120_000);
    const out = join(dir, "demo-named");
    const demo = spawnSync(process.execPath, [resolve("bin/fusiond.js"), "demo", "--model", "models/default", "--cameras", "front,rear,left,right", "--duration", "1", "--quiet", "--json", "--out", out], { encoding: "utf8" });
    assert.equal(demo.status, 0, demo.stderr);
    assert.match((JSON.parse(demo.stdout) as { replay: string }).replay, /--model models\/default$/);
    const log = readFileSync(join(out, readdirSync(out).find((f) => f.endsWith(".log"))!), "utf8");
    assert.match(log, /models\/default has no camera slots: it fuses the reference camera \(front\) only, and rear, left, right are aligned but not fused.*--model models\/multi-camera/);
    assert.doesNotMatch(log, /chosen \(none named\)/);
  });

  it("demo: --model when given, else chosen for --cameras (none: models/default, what npm start runs)", () => {
    assert.deepEqual(demoModel("models/late", FOUR, () => SHIPPED), { model: "models/late" });
    assert.equal(demoModel(undefined, FOUR, () => SHIPPED).model, "models/multi-camera");
    assert.equal(demoModel(undefined, undefined, () => SHIPPED).model, "models/default");
  });
});
