import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { MODALITIES } from "../../../schemas/index.ts";
import { makeInputSpec } from "../../../fusion/features/config.ts";
import { sessionOptions, type OrtModule } from "../../../fusion/inference/onnx-runtime.ts";
import { renderCard } from "../../../fusion/model/card.ts";
import { ensembleOf } from "../../../fusion/model/ensemble.ts";
import { exportModelDir, loadModelDir, saveModelDir, type ModelCard } from "../../../fusion/model/model-dir.ts";
import onnxProto from "onnx-proto";
import { exportOnnx, kernelBlocks, ONNX_OUTPUT_NAME } from "../../../fusion/model/onnx-export.ts";
import { MODEL_ONNX, readOnnxFile, sha256Hex } from "../../../fusion/model/onnx-file.ts";
import { STRATEGIES, strategyByName } from "../../../fusion/model/strategies.ts";
import { wideEnsembleOf } from "../../../fusion/model/wide-ensemble.ts";
import { buildBatch } from "../../../fusion/train/dataset.ts";
import { cpuTarget, ortOrSkip } from "../ort.ts";
import { saveRecogniserFor } from "../recogniser.ts";
import { syntheticSamples } from "../synthetic.ts";
import { useBackend } from "../tf-setup.ts";

const card = (spec: ModelCard["inputSpec"], strategy: string): ModelCard => ({
  name: "t",
  strategy,
  description: "test",
  command: "test",
  data: { files: [], samples: 0, train: 0, val: 0 },
  training: {},
  metrics: {},
  inputSpec: spec,
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

/** Runs ONNX bytes on ORT's CPU provider with the tfjs inputs; returns the output data and shape. */
async function runOnnx(ort: OrtModule, bytes: Uint8Array, xs: tf.Tensor[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, sessionOptions(cpuTarget(ort)));
  try {
    assert.equal(session.inputNames.length, xs.length);
    const feeds = Object.fromEntries(session.inputNames.map((n, i) => [n, new ort.Tensor("float32", xs[i]!.dataSync() as Float32Array, xs[i]!.shape)]));
    const out = await session.run(feeds);
    assert.deepEqual(session.outputNames, [ONNX_OUTPUT_NAME]);
    return { data: out[ONNX_OUTPUT_NAME]!.data as Float32Array, dims: out[ONNX_OUTPUT_NAME]!.dims };
  } finally {
    await session.release();
  }
}

describe("fusion/model/onnx-export", function () {
  this.timeout(60_000);
  const spec = makeInputSpec([...MODALITIES]);
  const samples = syntheticSamples(16, 7);
  const rows = Array.from({ length: 16 }, (_, i) => i);
  let ort: OrtModule;
  let dir: string;
  before(async function () {
    await useBackend("wasm");
    ort = await ortOrSkip(this);
  });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-onnx-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, () => Promise<tf.LayersModel>][] = [
    ...STRATEGIES.map((s): [string, () => Promise<tf.LayersModel>] => [s, async () => strategyByName(s).build(spec, { seed: 3, head: [16, 8], units: 8 })]),
    ["wide ensemble of 3 intermediate", async () => wideEnsembleOf([1, 2, 3].map((seed) => strategyByName("intermediate").build(spec, { seed, units: 8 })))],
    ["wide ensemble of 2 early", async () => wideEnsembleOf([1, 2].map((seed) => strategyByName("early").build(spec, { seed, head: [8] })))],
    ["flat ensemble of 2 late", async () => ensembleOf([1, 2].map((seed) => strategyByName("late").build(spec, { seed, units: 8 })))],
  ];
  for (const [name, build] of cases) {
    it(`${name}: ONNX Runtime gives tfjs's probabilities (within 1e-5) on the same inputs, with a symbolic batch`, async () => {
      const model = await build();
      const bytes = exportOnnx(model);
      for (const n of [16, 1]) {
        const xs = buildBatch(samples, rows.slice(0, n), spec);
        const want = (model.predict(xs) as tf.Tensor).dataSync();
        const got = await runOnnx(ort, bytes, xs);
        assert.deepEqual(got.dims, [n, 8]);
        const d = maxAbsDiff(got.data, want);
        assert.ok(d < 1e-5, `max |Δ| ${d}`);
      }
      // Deterministic: the same model gives the same bytes (the card's sha256 is reproducible).
      assert.equal(sha256Hex(exportOnnx(model)), sha256Hex(bytes));
    });
  }

  it("kernelBlocks finds a block-diagonal kernel's blocks (rows in any order, shared rows too) and leaves dense or barely sparse kernels alone", () => {
    // 5 inputs × 4 units, two members of 2 units: member 0 reads rows 0, 2 and the shared row 4; member 1 rows 1, 3, 4.
    const k = Float32Array.from([1, 2, 0, 0, /**/ 0, 0, 3, 4, /**/ 5, 6, 0, 0, /**/ 0, 0, 7, 8, /**/ 9, 1, 2, 3]);
    assert.deepEqual(kernelBlocks(k, 5, 4), [
      { cols: [0, 2], rows: [0, 2, 4] },
      { cols: [2, 4], rows: [1, 3, 4] },
    ]);
    // 4 inputs, member 0 reads rows 0–2, member 1 rows 1–3: 0.75 of the weights kept, not worth splitting.
    const overlap = Float32Array.from([1, 1, 0, 0, /**/ 1, 1, 1, 1, /**/ 1, 1, 1, 1, /**/ 0, 0, 1, 1]);
    assert.equal(kernelBlocks(overlap, 4, 4), undefined);
    const wide = new Float32Array(8 * 4); // 8 inputs, member m reads rows 4m … 4m+3 only
    for (let r = 0; r < 8; r++) for (let c = 0; c < 4; c++) if ((r < 4) === (c < 2)) wide[r * 4 + c] = r + c + 1;
    assert.deepEqual(kernelBlocks(wide, 8, 4), [
      { cols: [0, 2], rows: [0, 1, 2, 3] },
      { cols: [2, 4], rows: [4, 5, 6, 7] },
    ]);
    assert.equal(kernelBlocks(Float32Array.from({ length: 32 }, (_, i) => i + 1), 8, 4), undefined, "dense");
    const deadColumn = wide.slice();
    for (let r = 0; r < 8; r++) deadColumn[r * 4 + 3] = 0;
    assert.equal(kernelBlocks(deadColumn, 8, 4), undefined, "a column that reads no row");
  });

  it("a wide ensemble's block-diagonal dense layers are exported without their zero blocks (one Gemm per member on the columns it reads, no transposes)", async () => {
    const model = wideEnsembleOf([1, 2, 3].map((seed) => strategyByName("intermediate").build(spec, { seed, units: 8 })));
    const graph = onnxProto.onnx.ModelProto.decode(exportOnnx(model)).graph!;
    const floats = graph.initializer!.filter((t) => t.dataType === onnxProto.onnx.TensorProto.DataType.FLOAT).reduce((a, t) => a + (t.dims as number[]).reduce((x, d) => x * Number(d), 1), 0);
    const zeros = graph.initializer!.filter((t) => t.dataType === onnxProto.onnx.TensorProto.DataType.FLOAT).reduce((a, t) => a + new Float32Array(new Uint8Array(t.rawData!).slice().buffer).filter((v) => v === 0).length, 0);
    const weights = model.layers.flatMap((l) => l.getWeights()).reduce((a, w) => a + w.size, 0);
    assert.ok(floats < 0.6 * weights, `${floats} floats stored for ${weights} weights`);
    assert.ok(zeros < 0.05 * floats, `${zeros} of ${floats} stored floats are zeros`);
    // Every member's own Gemm (3 members: /m0/, /m1/, /m2/), and no data moved to make the members' inputs.
    const perMember = [0, 1, 2].map((m) => graph.node!.filter((n) => n.opType === "Gemm" && n.name!.includes(`/m${m}/`)).length);
    assert.ok(perMember.every((c) => c >= 3 && c === perMember[0]), `Gemm nodes per member: ${perMember.join(", ")}`);
    assert.equal(graph.node!.filter((n) => n.opType === "Transpose" || n.opType === "MatMul").length, 0);
  });

  it("a layer it does not know is an error that names the layer", () => {
    const input = tf.input({ shape: [4, 3] });
    const out = tf.layers.dense({ units: 2, activation: "softmax" }).apply(tf.layers.conv1d({ filters: 2, kernelSize: 2, name: "my_conv" }).apply(input)) as tf.SymbolicTensor;
    assert.throws(() => exportOnnx(tf.model({ inputs: input, outputs: out })), /layer my_conv \(Conv1D\) has no ONNX export/);
  });

  it("saveModelDir writes model.onnx and its sha256 and source hash into the card; a stale or altered file is refused with the command that fixes it", async () => {
    const model = strategyByName("intermediate").build(spec, { seed: 5, units: 8 });
    await saveRecogniserFor(dir, spec);
    const hash = await saveModelDir(dir, model, card(spec, "intermediate"), renderCard);
    const stored = JSON.parse(readFileSync(join(dir, "card.json"), "utf8")) as ModelCard;
    const bytes = readFileSync(join(dir, MODEL_ONNX));
    assert.deepEqual(stored.onnx, { file: MODEL_ONNX, opset: 13, bytes: bytes.byteLength, sha256: sha256Hex(bytes), modelHash: hash });
    assert.match(readFileSync(join(dir, "card.md"), "utf8"), new RegExp(`ONNX \\(opset 13\\): \`model.onnx\`, sha256 \`${stored.onnx!.sha256}\``));
    assert.ok(existsSync(join(dir, "voice-command", MODEL_ONNX)), "the command recogniser gets its ONNX form too");
    assert.ok("bytes" in readOnnxFile(dir, stored.onnx, hash));
    assert.match((readOnnxFile(dir, stored.onnx, "0123456789abcdef") as { error: string }).error, /exported from model .* not from this one .*fusiond export --model/);
    writeFileSync(join(dir, MODEL_ONNX), bytes.subarray(0, 100));
    assert.match((readOnnxFile(dir, stored.onnx, hash) as { error: string }).error, /does not match the sha256 in its model card/);
    rmSync(join(dir, MODEL_ONNX));
    assert.match((readOnnxFile(dir, stored.onnx, hash) as { error: string }).error, /does not exist \(write it again with: fusiond export --model/);
    // fusiond export writes it again, for the model and its recogniser.
    const loaded = await loadModelDir(dir);
    const entries = exportModelDir(loaded, renderCard);
    assert.equal(entries.length, 2);
    assert.equal(entries[0]!.sha256, stored.onnx!.sha256);
    assert.ok("bytes" in readOnnxFile(dir, entries[0], loaded.hash));
  });

  it("a model with a layer the exporter does not know still saves; its card says why it has no ONNX form and no stale file is left", async () => {
    const monoSpec = makeInputSpec(["ego"]);
    writeFileSync(join(dir, MODEL_ONNX), "stale");
    const input = tf.input({ shape: monoSpec.inputs[0]!.shape, name: monoSpec.inputs[0]!.name });
    const p = tf.input({ shape: monoSpec.inputs[1]!.shape, name: monoSpec.inputs[1]!.name });
    const h = tf.layers.batchNormalization({ name: "odd_norm" }).apply(tf.layers.concatenate().apply([input, p])) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [input, p], outputs: tf.layers.dense({ units: 8, activation: "softmax" }).apply(h) as tf.SymbolicTensor });
    await saveModelDir(dir, model, card(monoSpec, "custom"), renderCard);
    const stored = JSON.parse(readFileSync(join(dir, "card.json"), "utf8")) as ModelCard;
    assert.match(stored.onnx?.error ?? "", /odd_norm \(BatchNormalization\)/);
    assert.ok(!existsSync(join(dir, MODEL_ONNX)));
    assert.match(readFileSync(join(dir, "card.md"), "utf8"), /ONNX \(opset 13\): none \(layer odd_norm/);
  });
});
