/**
 * ROS 2 recordings in MCAP (rosbag2's MCAP storage: schemas `ros2msg`, messages `cdr`), read front to back
 * with the project's offset-aware MCAP scanner, so a file that was not closed (a killed recorder) is read
 * up to its last whole chunk and the rest is reported by offset; a corrupt chunk is an error.
 */
import type { McapTypes } from "@mcap/core";
import { compressionReady } from "../compression.ts";
import type { ByteSource } from "../io.ts";
import { scanError, scanRecords } from "../scan.ts";
import { normaliseRosType, type RosConnection, type RosProblem, type RosReader, type RosRecord } from "./types.ts";

export class Ros2McapReader implements RosReader {
  readonly format = "ros2" as const;
  readonly problems: RosProblem[] = [];
  position = 0;

  private constructor(
    private readonly source: ByteSource,
    readonly size: number,
  ) {}

  get file(): string {
    return this.source.name;
  }

  static async open(source: ByteSource): Promise<Ros2McapReader> {
    await compressionReady();
    return new Ros2McapReader(source, Number(await source.size()));
  }

  async close(): Promise<void> {
    await this.source.close();
  }

  async *records(): AsyncGenerator<RosRecord> {
    const schemas = new Map<number, McapTypes.Schema>();
    const channels = new Map<number, RosConnection>();
    const scan = scanRecords(this.source, {
      salvage: true,
      onProblem: (p) => {
        // A file that ends early was not closed: keep what precedes; anything else is damage.
        if (p.code !== "mcap_truncated") throw scanError(this.file, p);
        this.problems.push({ code: "mcap_truncated", offset: p.offset, detail: `${p.detail}; what precedes it was recovered` });
      },
    });
    for await (const { record, offset } of scan) {
      this.position = offset;
      if (record.type === "Schema") schemas.set(record.id, record);
      else if (record.type === "Channel") {
        const schema = schemas.get(record.schemaId);
        channels.set(record.id, {
          id: record.id,
          topic: record.topic,
          type: normaliseRosType(schema?.name ?? ""),
          definition: schema ? new TextDecoder().decode(schema.data) : "",
          encoding: record.messageEncoding === "cdr" ? "cdr" : "unknown",
          schemaEncoding: schema?.encoding ?? "",
          messageEncoding: record.messageEncoding,
          offset,
        });
      } else if (record.type === "Message") {
        const connection = channels.get(record.channelId);
        if (connection) yield { connection, receiveNs: record.logTime, data: record.data, offset };
      }
    }
    this.position = this.size;
  }
}
