import { strict as assert } from "node:assert";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import Long from "long";
import protobuf from "protobufjs";
import { ACTION_NAMES, DrivingAction, defaultCodec } from "../../schemas/index.ts";
import { GENERATED_DIR, generateMessageTypes } from "../../scripts/generate-message-types.ts";

function committedFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...committedFiles(path));
    else out.push(relative(GENERATED_DIR, path).split(sep).join("/"));
  }
  return out.sort();
}

describe("schemas/generated (message types from schemas/proto)", function () {
  this.timeout(30_000);

  it("are what `npm run generate:types` makes from the .proto files today", () => {
    const fresh = generateMessageTypes();
    assert.deepEqual(committedFiles(GENERATED_DIR), [...fresh.keys()].sort(), "file set differs: run `npm run generate:types`");
    for (const [rel, text] of fresh) {
      assert.equal(readFileSync(join(GENERATED_DIR, rel), "utf8"), text, `schemas/generated/${rel} is stale: run \`npm run generate:types\``);
    }
  });

  it("give the one action list: DrivingAction by name in value order, class i being value i + 1", () => {
    assert.deepEqual(ACTION_NAMES, ["KEEP", "ACCELERATE", "DECELERATE", "BRAKE_HARD", "LANE_LEFT", "LANE_RIGHT", "STOP", "PULL_OVER"]);
    ACTION_NAMES.forEach((name, i) => assert.equal(DrivingAction[name], i + 1, name));
  });

  // The generator options claim a shape for what ProtoCodec.decode returns; this checks the claim field by field
  // for every type, on an empty message (absent fields) and on one with every field set.
  it("describe the codec's decoded messages: null for absent sub-messages and optionals, Long, numbers for enums, arrays", () => {
    const codec = defaultCodec();
    for (const typeName of codec.typeNames().filter((n) => !n.startsWith("google."))) {
      const t = codec.type(typeName);
      const empty = codec.decode(typeName, new Uint8Array()) as Record<string, unknown>;
      const full = codec.decode(typeName, codec.encode(typeName, sample(t))) as Record<string, unknown>;
      for (const f of t.fieldsArray) {
        const where = `${typeName}.${f.name}`;
        const absent = empty[f.name];
        const present = full[f.name];
        if (f.repeated) {
          assert.ok(Array.isArray(absent) && absent.length === 0, `${where}: absent repeated is []`);
          assert.ok(Array.isArray(present) && present.length === 1, `${where}: repeated is an array`);
          continue;
        }
        const optional = f.resolvedType instanceof protobuf.Type || f.partOf !== null;
        if (optional) assert.equal(absent, null, `${where}: absent reads as null (useNullAsOptional)`);
        if (f.resolvedType instanceof protobuf.Enum) assert.equal(typeof present, "number", `${where}: enums are numbers`);
        else if (/^u?int64|^s?fixed64|^sint64/.test(f.type)) assert.ok(Long.isLong(present), `${where}: 64-bit ints are Long (forceLong=long)`);
        else if (f.type === "bytes") assert.ok(present instanceof Uint8Array, `${where}: bytes are Uint8Array`);
        else if (f.type === "string") assert.equal(typeof present, "string", where);
        else if (f.type === "bool") assert.equal(typeof present, "boolean", where);
        else if (!(f.resolvedType instanceof protobuf.Type)) assert.equal(typeof present, "number", `${where}: ${f.type} is a number`);
      }
    }
  });
});

/** A value for every field of a type (one element per repeated field), recursing into sub-messages. */
function sample(t: protobuf.Type): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of t.fieldsArray) {
    f.resolve();
    let v: unknown;
    if (f.resolvedType instanceof protobuf.Type) v = sample(f.resolvedType);
    else if (f.resolvedType instanceof protobuf.Enum) v = Math.max(...Object.values(f.resolvedType.values));
    else if (f.type === "string") v = "x";
    else if (f.type === "bytes") v = new Uint8Array([1]);
    else if (f.type === "bool") v = true;
    else v = 1;
    out[f.name] = f.repeated ? [v] : v;
  }
  return out;
}
