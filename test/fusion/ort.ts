/** Test helper: onnxruntime-node (an optional dependency), or a skip that says why (never silently). */
import type { Context } from "mocha";
import { asOrtModule, type OrtModule, type OrtTarget } from "../../fusion/inference/onnx-runtime.ts";

export async function ortOrSkip(ctx: Context): Promise<OrtModule> {
  try {
    return asOrtModule(await import("onnxruntime-node"));
  } catch (err) {
    console.log(`      skipped: onnxruntime-node is not installed here (${(err as Error).message.split("\n")[0]}); npm install onnxruntime-node`);
    ctx.skip();
  }
}

export const cpuTarget = (ort: OrtModule, threads = 1): OrtTarget => ({ ort, name: "onnx", executionProvider: "cpu", threads });
