/** Test helper: switch TF.js to a backend for a suite (wasm is what the daemon picks here). */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

export async function useBackend(name: "wasm" | "cpu"): Promise<void> {
  assertOk(await tf.setBackend(name), name);
  await tf.ready();
}
function assertOk(ok: boolean, name: string): void {
  if (!ok) throw new Error(`TF.js backend ${name} failed to initialise`);
}
