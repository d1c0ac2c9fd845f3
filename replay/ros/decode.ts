/**
 * Message readers per connection: ROS 1 serialization (@foxglove/rosmsg-serialization) or CDR
 * (@foxglove/rosmsg2-serialization), from the definition the file carries (@foxglove/rosmsg parses it).
 * A bag connection without a definition falls back to @foxglove/rosmsg-msgs-common's copy of a common
 * type; anything else is an `unknown_definition` error naming file, offset and topic.
 */
import type { MessageDefinition } from "@foxglove/message-definition";
import { parse } from "@foxglove/rosmsg";
import { ros1, ros2humble } from "@foxglove/rosmsg-msgs-common";
import { MessageReader as Ros1Reader } from "@foxglove/rosmsg-serialization";
import { MessageReader as Cdr2Reader } from "@foxglove/rosmsg2-serialization";
import { FusiondError } from "../../schemas/index.ts";
import type { RosConnection } from "./types.ts";

export type RosDecode = (data: Uint8Array) => Record<string, unknown>;

/** The definition of a common type and every type it uses, root first (what a MessageReader takes). */
function commonDefinitions(type: string, ros2: boolean): MessageDefinition[] | undefined {
  const table = (ros2 ? ros2humble : ros1) as Record<string, MessageDefinition>;
  const root = table[type];
  if (!root) return undefined;
  const out: MessageDefinition[] = [];
  const seen = new Set<string>();
  const visit = (d: MessageDefinition): void => {
    if (seen.has(d.name ?? "")) return;
    seen.add(d.name ?? "");
    out.push(d);
    for (const f of d.definitions) if (f.isComplex && table[f.type]) visit(table[f.type]!);
  };
  visit(root);
  return out;
}

export function rosError(code: string, file: string, c: RosConnection, detail: string, offset = c.offset): FusiondError {
  return new FusiondError(code, `${file}: ${detail} at byte offset ${offset} (topic ${c.topic}, type ${c.type || "?"})`, {
    file,
    offset,
    topic: c.topic,
    type: c.type,
  });
}

/** A decoder for a connection's messages; throws FusiondError when the file does not say how to read them. */
export function decoderFor(file: string, c: RosConnection): RosDecode {
  if (c.encoding === "unknown") {
    throw rosError("unknown_encoding", file, c, `message encoding "${c.messageEncoding}" is not one fusiond reads (ros1, cdr)`);
  }
  const ros2 = c.encoding === "cdr";
  if (ros2 && c.schemaEncoding !== "ros2msg" && !(c.schemaEncoding === "" && c.definition === "")) {
    throw rosError("unknown_encoding", file, c, `schema encoding "${c.schemaEncoding}" is not one fusiond reads (ros2msg)`);
  }
  let definitions: MessageDefinition[] | undefined;
  if (c.definition.trim()) {
    try {
      definitions = parse(c.definition, { ros2 });
    } catch (err) {
      throw rosError("unknown_definition", file, c, `the message definition does not parse (${(err as Error).message})`);
    }
  } else {
    definitions = commonDefinitions(c.type, ros2);
    if (!definitions) throw rosError("unknown_definition", file, c, "no message definition in the file, and the type is not a common one fusiond knows");
  }
  try {
    if (ros2) {
      const reader = new Cdr2Reader(definitions, { timeType: "sec,nanosec" });
      return (data) => reader.readMessage(data);
    }
    const reader = new Ros1Reader(definitions);
    return (data) => reader.readMessage(data);
  } catch (err) {
    throw rosError("unknown_definition", file, c, `the message definition is incomplete (${(err as Error).message})`);
  }
}
