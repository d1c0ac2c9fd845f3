/**
 * Equivalence of the ONNX backend with wasm on every shipped model (and its command recogniser): on frames of
 * held-out simulator recordings (seeds no shipped model was trained on), through the production runners (ORT
 * session on model.onnx; the TF.js runner on wasm), class probabilities within 1e-4 and actions identical on
 * ≥ 99.9% of frames. (The golden replay runs on wasm and is untouched: test/replay/golden.test.ts.)
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModelDir, TfModelRunner, type LabelledSample, type ModelRunner } from "../../fusion/index.ts";
import { createModelRunner } from "../../fusion/inference/make-runner.ts";
import { buildBatch } from "../../fusion/train/dataset.ts";
import { writeDataset } from "../../bin/commands/sim.ts";
import { loadAll } from "../../train/data.ts";
import { cpuTarget, ortOrSkip } from "../fusion/ort.ts";
import { useBackend } from "../fusion/tf-setup.ts";

const MODELS = fileURLToPath(new URL("../../models/", import.meta.url));
const argmax = (p: Float32Array): number => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);

/** Every sample's inputs for `runner`'s spec, one record per sample (as the decide stage hands them over). */
function rowsFor(samples: readonly LabelledSample[], runner: ModelRunner): Record<string, Float32Array>[] {
  const spec = runner.spec;
  const batch = buildBatch(samples, samples.map((_, i) => i), spec);
  const data = batch.map((t) => t.dataSync() as Float32Array);
  batch.forEach((t) => t.dispose());
  return samples.map((_, r) =>
    Object.fromEntries(spec.inputs.map((inp, k) => {
      const size = inp.shape.reduce((a, b) => a * b, 1);
      return [inp.name, data[k]!.slice(r * size, (r + 1) * size)];
    })),
  );
}

async function compare(a: ModelRunner, b: ModelRunner, rows: Record<string, Float32Array>[]): Promise<{ maxDiff: number; same: number }> {
  const [pa, pb] = await Promise.all([Promise.all(rows.map((r) => a.run(r))), Promise.all(rows.map((r) => b.run(r)))]);
  let maxDiff = 0;
  let same = 0;
  pa.forEach((o, i) => {
    o.probabilities.forEach((p, c) => (maxDiff = Math.max(maxDiff, Math.abs(p - pb[i]!.probabilities[c]!))));
    if (argmax(o.probabilities) === argmax(pb[i]!.probabilities)) same++;
  });
  return { maxDiff, same };
}

describe("onnx backend ≡ wasm on every shipped model (held-out recordings)", function () {
  this.timeout(300_000);
  let work: string;
  const files: string[] = [];
  /** The same held-out drives with the simulator's four cameras, for models with camera slots (written when one is shipped). */
  let cameraSetFiles: Promise<string[]> | undefined;
  const writeCameraSet = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const seed of [9101, 9102]) {
      const f = join(work, `held-out-4cam-${seed}.mcap`);
      await writeDataset(f, seed, 30, { vehicle: "sim", sensors: ["camera", "radar", "gnss", "ego", "voice"], cameraFormat: "jpeg", cameraSet: { ids: ["front", "rear", "left", "right"], width: 64, height: 64 }, episodeS: 30, compression: "zstd" });
      out.push(f);
    }
    return out;
  };
  /** Samples by feature config (models made with other configs read other features). */
  const samples = new Map<string, Promise<LabelledSample[]>>();
  const samplesFor = (config: ModelRunner["spec"]["config"]): Promise<LabelledSample[]> => {
    const key = JSON.stringify(config);
    if (!samples.has(key)) samples.set(key, config.cameras ? (cameraSetFiles ??= writeCameraSet()).then((f) => loadAll(f, 1, false, () => {}, config)) : loadAll(files, 1, false, () => {}, config));
    return samples.get(key)!;
  };
  let ort: Awaited<ReturnType<typeof ortOrSkip>>;
  before(async function () {
    ort = await ortOrSkip(this);
    await useBackend("wasm");
    work = mkdtempSync(join(tmpdir(), "fusiond-onnx-eq-"));
    for (const seed of [9101, 9102]) {
      const f = join(work, `held-out-${seed}.mcap`);
      await writeDataset(f, seed, 30, { vehicle: "sim", sensors: ["camera", "radar", "gnss", "ego", "voice"], cameraFormat: "jpeg", episodeS: 30, compression: "zstd" });
      files.push(f);
    }
  });
  after(() => work && rmSync(work, { recursive: true, force: true }));

  const dirs = readdirSync(MODELS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  it("ships models to compare (default: a 4-member wide ensemble)", () => assert.ok(dirs.includes("default") && dirs.length >= 5, dirs.join(", ")));

  for (const name of dirs) {
    it(`${name}: probabilities within 1e-4 and actions identical on ≥ 99.9% of frames (and its command recogniser, if any)`, async () => {
      const dir = join(MODELS, name);
      const opts = { now: () => 0, maxBatch: 64, maxQueue: 100_000 };
      const onnx = await createModelRunner(await loadModelDir(dir), { chosen: "onnx", tfBackend: "onnx", log: [], ort: cpuTarget(ort) }, opts);
      const wasm = new TfModelRunner(await loadModelDir(dir), opts);
      try {
        assert.equal(onnx.backend, "onnx");
        assert.equal(wasm.backend, "wasm");
        const pairs: [string, ModelRunner, ModelRunner][] = [[name, onnx, wasm]];
        if (onnx.commands && wasm.commands) pairs.push([`${name}/voice-command`, onnx.commands, wasm.commands]);
        assert.equal(pairs.length, wasm.commands ? 2 : 1, "the recogniser runs on ONNX too");
        for (const [label, a, b] of pairs) {
          const rows = rowsFor(await samplesFor(a.spec.config), a);
          assert.ok(rows.length >= 1000, `${rows.length} frames`);
          const { maxDiff, same } = await compare(a, b, rows);
          console.log(`      ${label}: ${rows.length} frames, max |Δp| ${maxDiff.toExponential(2)}, actions identical ${same}/${rows.length}`);
          assert.ok(maxDiff < 1e-4, `${label}: max |Δ p| ${maxDiff}`);
          assert.ok(same / rows.length >= 0.999, `${label}: actions identical on ${same}/${rows.length}`);
        }
      } finally {
        onnx.close();
        wasm.close();
      }
    });
  }
});
