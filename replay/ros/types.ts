/**
 * What the ROS readers give the converter: one connection per (topic, type) as the file declares it, and
 * its messages' serialized bytes with the time the recorder received them. Times are bigint ns.
 */

/** How a connection's messages are serialized: ROS 1 (rosbag) or CDR (ROS 2, rosbag2's MCAP storage). */
export type RosEncoding = "ros1" | "cdr";

export interface RosConnection {
  /** The file's own connection (ROS 1) or channel (MCAP) id. */
  id: number;
  topic: string;
  /** The message type, normalised to `package/Name` (ROS 2's `package/msg/Name` loses its `msg/`). */
  type: string;
  /** The message definition text as stored in the file ("" when the file has none). */
  definition: string;
  /** "unknown" for an MCAP channel in another encoding (what `messageEncoding` says). */
  encoding: RosEncoding | "unknown";
  /** MCAP schema encoding (ros2msg, ros2idl, ...); "ros1msg" for ROS 1 bags. */
  schemaEncoding: string;
  /** The channel's message encoding as written (MCAP); "ros1" for bags. */
  messageEncoding: string;
  /** Byte offset of the record that declared it (for errors). */
  offset: number;
}

export interface RosRecord {
  connection: RosConnection;
  /** The bag's record time (ROS 1) or MCAP log_time (ROS 2): when the recorder received it, ns. */
  receiveNs: bigint;
  /** The serialized message. Valid only until the next record is pulled: a reader may reuse its buffer. */
  data: Uint8Array;
  /** Byte offset of the record (or the chunk holding it), where the reader knows it; -1 where not. */
  offset: number;
}

/** Something a reader recovered past: where, and what. */
export interface RosProblem {
  code: "bag_truncated" | "bag_unindexed" | "mcap_truncated";
  offset: number;
  detail: string;
}

/** A ROS recording opened for a sequential read. */
export interface RosReader {
  readonly file: string;
  readonly format: "ros1" | "ros2";
  /** File size, bytes. */
  readonly size: number;
  /** Messages in the file's order (for bags read through the index: receive-time order). */
  records(): AsyncGenerator<RosRecord>;
  /** What was recovered past so far (unindexed, truncated). */
  readonly problems: readonly RosProblem[];
  /** Bytes of the file consumed so far (for progress lines). */
  readonly position: number;
  close(): Promise<void>;
}

/** `sensor_msgs/msg/Image` → `sensor_msgs/Image`. */
export function normaliseRosType(type: string): string {
  return type.replace(/\/msg\//, "/");
}

/** A ROS time ({sec, nsec} in ROS 1, {sec, nanosec} in ROS 2) as ns; undefined when it is not one. */
export function rosTimeToNs(t: unknown): bigint | undefined {
  if (!t || typeof t !== "object") return undefined;
  const o = t as { sec?: unknown; nsec?: unknown; nanosec?: unknown };
  const sec = o.sec;
  const nsec = o.nsec ?? o.nanosec;
  if (typeof sec !== "number" || typeof nsec !== "number") return undefined;
  return BigInt(sec) * 1_000_000_000n + BigInt(nsec);
}
