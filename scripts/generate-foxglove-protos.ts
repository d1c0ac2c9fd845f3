/**
 * Writes the Foxglove well-known schemas fusiond uses on the wire into schemas/proto/foxglove/,
 * generated from the @foxglove/schemas package (never typed by hand), with every schema they import.
 *
 * Run: npm run generate:protos   (a test checks that the committed files match this output)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import foxgloveInternal from "@foxglove/schemas/internal.js";

const { generateProto, foxgloveMessageSchemas, foxgloveEnumSchemas } = foxgloveInternal;

/** The Foxglove messages that fusiond puts on the wire; their imports are added automatically. */
export const WIRE_SCHEMAS = ["CompressedImage", "RawImage", "LocationFix", "RawAudio"] as const;

type MessageSchema = (typeof foxgloveMessageSchemas)[keyof typeof foxgloveMessageSchemas];

/** Returns `name` and every Foxglove message schema it depends on (transitively), sorted by name. */
export function schemaClosure(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const schema = (foxgloveMessageSchemas as Record<string, MessageSchema>)[name];
    if (!schema) throw new Error(`@foxglove/schemas has no message schema named ${name}`);
    if (schema.protoEquivalent) return; // google.protobuf.Timestamp/Duration: well-known types
    seen.add(name);
    for (const field of schema.fields) {
      if (field.type.type === "nested") visit(field.type.schema.name);
    }
  };
  names.forEach(visit);
  return [...seen].sort();
}

/** The generated .proto text for each file, keyed by its path relative to schemas/proto. */
export function generateFoxgloveProtos(): Map<string, string> {
  const out = new Map<string, string>();
  const enums = Object.values(foxgloveEnumSchemas);
  for (const name of schemaClosure(WIRE_SCHEMAS)) {
    const schema = (foxgloveMessageSchemas as Record<string, MessageSchema>)[name]!;
    const text = generateProto(schema, enums.filter((e) => e.parentSchemaName === name));
    out.set(`foxglove/${name}.proto`, text);
  }
  return out;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas", "proto");
  for (const [rel, text] of generateFoxgloveProtos()) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote schemas/proto/${rel}`);
  }
}
