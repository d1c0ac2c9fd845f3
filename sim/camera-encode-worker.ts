/**
 * A camera encoding worker thread (camera-encode-pool.ts): one job at a time, encodeCameraJob on the rendering
 * it is handed, the JPEG handed back without a copy (its ArrayBuffer transferred).
 */
import { parentPort } from "node:worker_threads";
import { encodeCameraJob } from "./sensors/camera-encode.ts";
import type { EncodeRequest, EncodeResult } from "./camera-encode-pool.ts";

parentPort!.on("message", (req: EncodeRequest) => {
  const data = encodeCameraJob(req.job);
  // A JPEG is a new array; transfer its buffer only when the array is the whole of it.
  const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
  const result: EncodeResult = { id: req.id, data: own };
  parentPort!.postMessage(result, [own.buffer as ArrayBuffer]);
});
