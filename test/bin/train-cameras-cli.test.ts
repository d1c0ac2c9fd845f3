import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scenariosOf } from "../../sim/scenarios.ts";
import { recordDrive } from "./eval-helpers.ts";

const BIN = new URL("../../bin/fusiond.js", import.meta.url).pathname;
const fusiond = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 240_000 });

describe("fusiond train --cameras: a model with camera slots from several cameras' recordings", function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-train-cameras-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("aligns each instant once with its four cameras and saves a spec that names them (an intermediate ensemble of 2, side by side)", async () => {
    const [a, b] = scenariosOf("train");
    const cameraSet = { ids: ["front", "rear", "left", "right"] as const, width: 64, height: 64 };
    const files = [join(dir, "a.mcap"), join(dir, "b.mcap")];
    writeFileSync(files[0]!, await recordDrive([{ ...a!, durationS: 4 }], 4, { cameraSet }));
    writeFileSync(files[1]!, await recordDrive([{ ...b!, durationS: 4 }], 4, { cameraSet }));
    const r = fusiond(["train", "--data", ...files, "--cameras", "front,rear,left,right", "--epochs", "1", "--every", "1", "--head", "8", "--units", "8", "--modalities", "camera,radar,ego", "--strategy", "intermediate", "--ensemble", "2", "--jobs", "1", "--no-cache", "--out", join(dir, "m")]);
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    // 4 s at 20 Hz: one frame per instant (each camera topic its own reference would make four).
    const counts = [...r.stderr.matchAll(/: (\d+) frames, /g)].map((m) => Number(m[1]));
    assert.equal(counts.length, 2, r.stderr.slice(-2000));
    for (const n of counts) assert.ok(n >= 70 && n <= 81, `frames per 4 s file: ${n}`);
    const spec = JSON.parse(readFileSync(join(dir, "m", "input-spec.json"), "utf8")) as { config: { cameras?: string[] }; inputs: { name: string; shape: number[] }[] };
    assert.deepEqual(spec.config.cameras, ["front", "rear", "left", "right"]);
    assert.deepEqual(spec.inputs.find((i) => i.name === "camera")?.shape, [4, 16, 192]);
    assert.deepEqual(spec.inputs.find((i) => i.name === "camera_mask")?.shape, [4]);
    assert.match(r.stderr, /ensemble of 2: validation macro-F1/);
  });

  it("a bad --cameras exits 2 and says what it takes", () => {
    const twice = fusiond(["train", "--data", "x.mcap", "--out", join(dir, "x"), "--cameras", "front,front"]);
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /--cameras takes distinct camera ids separated by commas, e.g. front,rear,left,right, not "front,front"/);
  });
});
