/**
 * Chunk compression for MCAP: zstd through @foxglove/wasm-zstd (compress and decompress), lz4 frames
 * through lz4js (compress; @foxglove/wasm-lz4 only decompresses) and @foxglove/wasm-lz4 (decompress).
 * The wasm modules load asynchronously: await `compressionReady()` before the first use.
 */
import type { McapTypes } from "@mcap/core";
import lz4Decompress from "@foxglove/wasm-lz4";
import * as zstd from "@foxglove/wasm-zstd";
import * as lz4js from "lz4js";

export type Compression = "zstd" | "lz4" | "none";
export const COMPRESSIONS: readonly Compression[] = ["zstd", "lz4", "none"];

/** Resolves once both wasm decoders are loaded. */
export async function compressionReady(): Promise<void> {
  await Promise.all([zstd.isLoaded, lz4Decompress.isLoaded]);
}

export type ChunkCompressor = (data: Uint8Array) => { compression: string; compressedData: Uint8Array };

/** A chunk compressor (call after compressionReady()). Level: zstd level, default 3 (zstd's own default). */
export function compressor(kind: Compression, level = 3): ChunkCompressor | undefined {
  switch (kind) {
    case "zstd":
      return (data) => ({ compression: "zstd", compressedData: zstd.compress(data, level) });
    case "lz4":
      return (data) => ({ compression: "lz4", compressedData: lz4js.compress(data) });
    case "none":
      return undefined;
  }
}

/** Decompressors for every compression MCAP readers may meet in our files. */
export const decompressHandlers: McapTypes.DecompressHandlers = {
  zstd: (buffer, size) => zstd.decompress(buffer, Number(size)),
  lz4: (buffer, size) => lz4Decompress(buffer, Number(size)),
};
