/**
 * model.onnx beside model.json: the ONNX form of a model directory's model (onnx-export.ts), written by
 * `fusiond train` and `fusiond export`, with its sha256 in the model card. The ONNX runtimes (backends `onnx`,
 * `onnx-webgpu`) load this file; the tfjs files stay the model of record (the model hash covers them).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { exportOnnx, ONNX_OPSET } from "./onnx-export.ts";

export const MODEL_ONNX = "model.onnx";

/** What the card says about the ONNX file: `sha256` of its bytes, or why there is none. */
export interface OnnxCardEntry {
  file: string;
  opset: number;
  bytes?: number;
  sha256?: string;
  /** The model hash (model.json + weights.bin) the file was exported from: a retrained model needs a new export. */
  modelHash?: string;
  /** Set when the model could not be exported (then no file is written, and an older one is removed). */
  error?: string;
}

export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/**
 * Writes `dir`/model.onnx for `model`. A model with a layer the exporter does not know gets no file (an older
 * one is removed, so a stale ONNX model never serves a new tfjs model) and an entry with the error.
 */
export function writeOnnxFile(dir: string, model: tf.LayersModel, modelHash: string): OnnxCardEntry {
  const path = join(dir, MODEL_ONNX);
  let bytes: Uint8Array;
  try {
    bytes = exportOnnx(model, { metadata: { model_hash: modelHash } });
  } catch (err) {
    if (existsSync(path)) rmSync(path);
    return { file: MODEL_ONNX, opset: ONNX_OPSET, modelHash, error: (err as Error).message };
  }
  writeFileSync(path, bytes);
  return { file: MODEL_ONNX, opset: ONNX_OPSET, bytes: bytes.byteLength, sha256: sha256Hex(bytes), modelHash };
}

/** The bytes of `dir`/model.onnx, checked against the sha256 the card gives, or a reason why they cannot be used. */
export function readOnnxFile(dir: string, entry: OnnxCardEntry | undefined, modelHash: string): { bytes: Uint8Array } | { error: string } {
  const path = join(dir, MODEL_ONNX);
  const fix = `write it again with: fusiond export --model ${dir}`;
  if (entry?.error) return { error: `the model has no ONNX form (${entry.error})` };
  if (!existsSync(path)) return { error: `${path} does not exist (${fix})` };
  if (!entry?.sha256) return { error: `the model card of ${dir} gives no sha256 for ${MODEL_ONNX} (${fix})` };
  if (entry.modelHash !== modelHash) return { error: `${path} was exported from model ${entry.modelHash ?? "?"}, not from this one (${modelHash}) (${fix})` };
  const bytes = readFileSync(path);
  if (sha256Hex(bytes) !== entry.sha256) return { error: `${path} does not match the sha256 in its model card (${fix})` };
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
