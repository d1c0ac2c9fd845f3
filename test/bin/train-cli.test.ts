import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scenariosOf } from "../../sim/scenarios.ts";
import { recordDrive } from "./eval-helpers.ts";

const BIN = new URL("../../bin/fusiond.js", import.meta.url).pathname;
const fusiond = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 240_000, env });

describe("fusiond train --ensemble: members in worker threads", function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-train-cli-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("extracts features and trains members side by side in workers, to exactly the model sequential training makes, shipped as one wide model", async () => {
    const [a, b] = scenariosOf("train");
    const files = [join(dir, "a.mcap"), join(dir, "b.mcap")];
    writeFileSync(files[0]!, await recordDrive([{ ...a!, durationS: 4 }], 4));
    writeFileSync(files[1]!, await recordDrive([{ ...b!, durationS: 4 }], 4));
    const common = ["train", "--data", ...files, "--epochs", "2", "--ensemble", "2", "--every", "1", "--head", "8", "--units", "8", "--modalities", "camera,radar,ego"];
    const seq = fusiond([...common, "--no-cache", "--jobs", "1", "--out", join(dir, "seq")]);
    assert.equal(seq.status, 0, seq.stderr.slice(-3000));
    assert.doesNotMatch(seq.stderr, /worker threads/);
    // With the feature cache (in a TMPDIR of the test's own): the two recordings are extracted in two workers.
    const env = { ...process.env, TMPDIR: join(dir, "tmp") };
    mkdirSync(env.TMPDIR, { recursive: true });
    const par = fusiond([...common, "--jobs", "2", "--out", join(dir, "par")], env);
    assert.equal(par.status, 0, par.stderr.slice(-3000));
    assert.match(par.stderr, /extracting the features of 2 recordings not in the cache, 2 worker threads/);
    assert.match(par.stderr, /2 ensemble members, 2 at a time in worker threads/);
    assert.match(par.stderr, /member 2 done: validation macro-F1/);
    assert.deepEqual(readFileSync(join(dir, "par", "weights.bin")), readFileSync(join(dir, "seq", "weights.bin")));
    // Again: everything is cached now, nothing to extract, the same model.
    const again = fusiond([...common, "--jobs", "2", "--out", join(dir, "again")], env);
    assert.equal(again.status, 0, again.stderr.slice(-3000));
    assert.doesNotMatch(again.stderr, /extracting the features/);
    assert.deepEqual(readFileSync(join(dir, "again", "weights.bin")), readFileSync(join(dir, "seq", "weights.bin")));
    const card = JSON.parse(readFileSync(join(dir, "par", "card.json"), "utf8")) as { training: Record<string, unknown> };
    assert.equal(card.training["ensemble members"], 2);
    assert.equal(card.training["ensemble form"], "side by side (one wide model)");
    const topology = JSON.parse(readFileSync(join(dir, "par", "model.json"), "utf8")) as { modelTopology: { config: { layers: { name: string }[] } } };
    const names = topology.modelTopology.config.layers.map((l) => l.name);
    assert.ok(names.includes("ensemble_mean") && !names.some((n) => n.startsWith("m2_")), names.join(","));
  });

  it("pretrains the camera encoder at the width --units gives the members (it used to be 32 whatever --units said, and the copy failed)", async () => {
    const [a] = scenariosOf("train");
    const file = join(dir, "units.mcap");
    writeFileSync(file, await recordDrive([{ ...a!, durationS: 4 }], 4));
    const r = fusiond(["train", "--data", file, "--epochs", "1", "--every", "1", "--head", "8", "--units", "8", "--modalities", "camera,radar,ego", "--pretrain", "camera", "--no-cache", "--out", join(dir, "units")]);
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const card = JSON.parse(readFileSync(join(dir, "units", "card.json"), "utf8")) as { training: Record<string, unknown> };
    assert.equal(card.training["encoder units"], 8);
    assert.equal(card.training["pretrained"], "camera");
  });

  it("training over a model that has a serving choice says that the new one has none", async () => {
    const [a] = scenariosOf("train");
    const file = join(dir, "serving.mcap");
    writeFileSync(file, await recordDrive([{ ...a!, durationS: 3 }], 3));
    const out = join(dir, "served");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "input-spec.json"), JSON.stringify({ serving: { radarScan: "latest" } }));
    const r = fusiond(["train", "--data", file, "--epochs", "1", "--every", "2", "--head", "8", "--units", "8", "--modalities", "camera,radar,ego", "--no-cache", "--out", out]);
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const warnings = r.stderr.split("\n").filter((l) => l.includes("is served on the latest radar scan (its input-spec.json serving choice)"));
    assert.equal(warnings.length, 2, "said before training and again after writing");
    assert.match(warnings[1]!, /choose again on validation/);
    const spec = JSON.parse(readFileSync(join(out, "input-spec.json"), "utf8")) as { serving?: unknown };
    assert.equal(spec.serving, undefined);
  });

  it("a bad --jobs exits 2 and says what it takes", () => {
    const r = fusiond(["train", "--data", "x.mcap", "--out", join(dir, "x"), "--ensemble", "2", "--jobs", "0"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--jobs must be a whole number from 1 to 64, not "0"/);
  });
});
