/**
 * Which kind of recording a file is (by its first bytes and, for MCAP, its header profile and channels),
 * and opening a ROS one for reading.
 */
import { MCAP_MAGIC } from "@mcap/core";
import { FusiondError } from "../../schemas/index.ts";
import { compressionReady } from "../compression.ts";
import { fileSource, type ByteSource } from "../io.ts";
import { scanRecords } from "../scan.ts";
import { isBagMagic } from "./bag1-records.ts";
import { Ros1BagReader } from "./bag1.ts";
import { Ros2McapReader } from "./ros2-mcap.ts";
import type { RosReader } from "./types.ts";

/** ros1: a ROS 1 bag; ros2: an MCAP file of ROS 2 (cdr) messages; fusiond: any other MCAP file. */
export type RecordingFormat = "ros1" | "ros2" | "fusiond";

const ROS2_SCHEMA_ENCODINGS = new Set(["ros2msg", "ros2idl"]);

/** Detects the format of a file; throws `not_recording` for a file that is neither a bag nor MCAP. */
export async function detectFormat(source: ByteSource): Promise<RecordingFormat> {
  const size = await source.size();
  const head = await source.read(0n, size < 64n ? size : 64n);
  if (isBagMagic(head)) return "ros1";
  if (head.length < 8 || !MCAP_MAGIC.every((b, i) => head[i] === b)) {
    throw new FusiondError("not_recording", `${source.name}: neither a ROS 1 bag nor an MCAP file at byte offset 0`, { file: source.name, offset: 0 });
  }
  await compressionReady();
  // The header says "ros2" for rosbag2; else the first channel's encodings decide.
  const schemas = new Map<number, string>();
  try {
    for await (const { record } of scanRecords(source, { salvage: true })) {
      if (record.type === "Header" && record.profile === "ros2") return "ros2";
      if (record.type === "Schema") schemas.set(record.id, record.encoding);
      if (record.type === "Channel") {
        return record.messageEncoding === "cdr" || ROS2_SCHEMA_ENCODINGS.has(schemas.get(record.schemaId) ?? "") ? "ros2" : "fusiond";
      }
      if (record.type === "Footer" || record.type === "DataEnd") break;
    }
  } catch {
    // a damaged file: its reader will say where
  }
  return "fusiond";
}

/** Is the file a ROS recording? False for anything else, unreadable files included (their reader says why). */
export async function isRosRecording(path: string): Promise<boolean> {
  let source: ByteSource;
  try {
    source = await fileSource(path);
  } catch {
    return false;
  }
  try {
    return (await detectFormat(source)) !== "fusiond";
  } catch {
    return false;
  } finally {
    await source.close();
  }
}

/** Opens a ROS 1 bag or ROS 2 MCAP file; throws `not_ros` for a fusiond recording. */
export async function openRosReader(path: string): Promise<RosReader> {
  const source = await fileSource(path);
  try {
    const format = await detectFormat(source);
    if (format === "ros1") return await Ros1BagReader.open(source);
    if (format === "ros2") return await Ros2McapReader.open(source);
    throw new FusiondError("not_ros", `${path}: an MCAP file without ROS 2 (cdr) channels: already a fusiond recording?`, { file: path });
  } catch (err) {
    await source.close();
    throw err;
  }
}
