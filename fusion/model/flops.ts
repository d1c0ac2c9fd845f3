/**
 * Floating-point operations per sample of a fusion model, counting multiply-adds as 2 FLOPs in the
 * matMul-based layers (dense, attention); elementwise ops (activations, norms, masks) are left out as
 * they are a few percent at most in these models.
 */
import * as tf from "@tensorflow/tfjs";
import { GatedLateFusion, ModalityAttention } from "./layers.ts";
import { kernelBlocks } from "./onnx-export.ts";

const prod = (xs: (number | null)[]): number => xs.reduce<number>((a, b) => a * (b ?? 1), 1);

/**
 * `withoutZeroBlocks`: a rank-2 dense kernel made of zero blocks (a wide ensemble's, onnx-export.ts
 * kernelBlocks) counts only its blocks: what model.onnx computes, where TF.js multiplies the zeros too.
 */
export function flopsPerSample(model: tf.LayersModel, o: { withoutZeroBlocks?: boolean } = {}): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === "Dense") {
      const shape = (layer.inputSpec?.[0]?.shape ?? (layer.input as tf.SymbolicTensor).shape) as (number | null)[];
      const inDim = shape[shape.length - 1]!;
      const rows = prod(shape.slice(1, -1));
      const units = (layer.getConfig()["units"] as number) ?? 0;
      const blocks = o.withoutZeroBlocks && shape.length === 2 ? kernelBlocks(layer.getWeights()[0]!.dataSync() as Float32Array, inDim, units) : undefined;
      flops += blocks ? 2 * blocks.reduce((a, b) => a + b.rows.length * (b.cols[1] - b.cols[0]), 0) : 2 * rows * inDim * units;
    } else if (layer instanceof ModalityAttention) {
      const m = layer.indices.length;
      const d = layer.units;
      flops += 2 * m * d * d * 4 + 2 * m * m * d * 2 + 2 * m * d * 2 * d * 2;
    } else if (layer instanceof GatedLateFusion) {
      const inputs = layer.input as tf.SymbolicTensor[];
      const p = inputs[inputs.length - 1]!.shape[1] as number;
      flops += 2 * p * layer.indices.length;
    }
  }
  return flops;
}
