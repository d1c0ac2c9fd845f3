/**
 * A TF.js IOHandler on node:fs. tfjs's own `file://` handler lives in @tensorflow/tfjs-node, which is an
 * optional native dependency (its install downloads libtensorflow, which fails offline), so the default
 * install saves and loads through this small handler instead. The files are the standard TF.js layers
 * format (model.json + one weights.bin), so tfjs-node and tfjs in a browser read them as they are.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { FusiondError } from "../../schemas/index.ts";

export const MODEL_JSON = "model.json";
export const WEIGHTS_BIN = "weights.bin";

function concatWeightData(data: tf.io.WeightData): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data);
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out;
}

export class FsModelHandler implements tf.io.IOHandler {
  constructor(readonly dir: string) {}

  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (artifacts.modelTopology instanceof ArrayBuffer) throw new FusiondError("model_save", "binary topologies are not supported", { dir: this.dir });
    mkdirSync(this.dir, { recursive: true });
    const weights = artifacts.weightData ? concatWeightData(artifacts.weightData) : new Uint8Array(0);
    const json = {
      format: artifacts.format ?? "layers-model",
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
    };
    writeFileSync(join(this.dir, WEIGHTS_BIN), weights);
    writeFileSync(join(this.dir, MODEL_JSON), JSON.stringify(json));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }

  async load(): Promise<tf.io.ModelArtifacts> {
    for (const f of [MODEL_JSON, WEIGHTS_BIN]) {
      if (!existsSync(join(this.dir, f))) throw new FusiondError("model_incomplete", `model directory ${this.dir} has no ${f}`, { dir: this.dir, file: f });
    }
    const json = JSON.parse(readFileSync(join(this.dir, MODEL_JSON), "utf8")) as tf.io.ModelJSON;
    const manifest = json.weightsManifest ?? [];
    const bin = readFileSync(join(this.dir, WEIGHTS_BIN));
    const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
    const weightSpecs = manifest.flatMap((g) => g.weights);
    const expected = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
    if (expected !== weightData.byteLength) {
      throw new FusiondError("model_corrupt", `${this.dir}/${WEIGHTS_BIN} has ${weightData.byteLength} bytes, the manifest needs ${expected}`, { dir: this.dir });
    }
    return { modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, weightSpecs, weightData };
  }
}
