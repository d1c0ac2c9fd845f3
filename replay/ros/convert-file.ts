/**
 * A ROS recording file → a fusiond MCAP file, written under a temporary name beside the output and renamed
 * only when the conversion succeeded: a failed or interrupted conversion leaves no output behind.
 */
import { randomBytes } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { McapRecorder, type RecordingMetadata } from "../recorder.ts";
import { fileSink } from "../io.ts";
import type { Compression } from "../compression.ts";
import { convertRos, type ConvertReport } from "./convert.ts";
import { DEFAULT_MAPPING, type RosMapping } from "./mapping.ts";
import { openRosReader } from "./open.ts";

export interface ConvertFileOptions {
  mapping?: RosMapping;
  /** The mapping file's text, stored in the output's metadata. */
  mappingText?: string;
  /** Output chunk compression (default none: see bin/commands/convert.ts). */
  compression?: Compression;
  /**
   * zstd level (default -1, zstd's fastest-but-one: a converted drive is mostly JPEG, which zstd barely
   * shrinks — 1.04× at -1, 1.05× at 1 at a third of the speed, level 3 slower again).
   */
  compressionLevel?: number;
  library?: string;
  metadata?: RecordingMetadata;
  onProgress?: (bytesRead: number, size: number, messagesOut: number) => void;
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));

export async function convertRosFile(input: string, output: string, options: ConvertFileOptions = {}): Promise<ConvertReport> {
  const mapping = options.mapping ?? DEFAULT_MAPPING;
  const temp = join(dirname(output), `.${basename(output)}.${process.pid}-${randomBytes(4).toString("hex")}.partial`);
  const reader = await openRosReader(input);
  let recorder: McapRecorder | undefined;
  try {
    recorder = await McapRecorder.create({
      open: () => fileSink(temp),
      compression: options.compression ?? "none",
      compressionLevel: options.compressionLevel ?? -1,
      library: options.library ?? "fusiond",
      // Nothing may be dropped: the converter waits for the disk (see convertRos) and this only bounds the wait.
      maxQueueBytes: 256 * 1024 * 1024,
      metadata: {
        vehicle: mapping.vehicle,
        source: "fusiond convert",
        convertedFrom: basename(input),
        rosMapping: options.mappingText ?? json(mapping),
        ...options.metadata,
      },
    });
    const report = await convertRos(reader, recorder, { mapping, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    recorder.addMetadata("fusiond.convert", {
      format: report.format,
      unmapped: json(report.unmapped),
      missing: json(report.missing),
      rejected: json(report.rejected),
      problems: json(report.problems),
    });
    await recorder.close();
    await rename(temp, output);
    return report;
  } catch (err) {
    await recorder?.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  } finally {
    await reader.close();
  }
}
