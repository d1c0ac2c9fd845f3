/** Messages between the camera pool (camera-pool.ts) and its workers (camera-worker.ts). */
import type { CameraRejection } from "./camera-decode.ts";

/** The fields of a CompressedImage or RawImage that the features read, `data` owned by the worker. */
export interface CameraFrame {
  data: Uint8Array;
  format?: string;
  encoding?: string;
  width?: number;
  height?: number;
  step?: number;
}

export interface CameraJob {
  id: number;
  msg: CameraFrame;
}

export interface CameraJobResult {
  id: number;
  present: boolean;
  patches: Float32Array;
  rejection?: CameraRejection;
}
