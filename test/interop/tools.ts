/** The real tools the interop tests run: protoc and the Mosquitto clients. Missing ones fail with the Debian package to install. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import protobuf from "protobufjs";
import { PROTO_DIR } from "../../schemas/index.ts";

export const SYSTEM_INCLUDE = "/usr/include";

const PACKAGES: Record<string, string> = {
  protoc: "protobuf-compiler",
  mosquitto_pub: "mosquitto-clients",
  mosquitto_sub: "mosquitto-clients",
};

/** Fails (never skips) when a tool is missing, naming the Debian package that has it. */
export function requireTool(name: keyof typeof PACKAGES | "google-protos"): void {
  if (name === "google-protos") {
    if (!existsSync(`${SYSTEM_INCLUDE}/google/protobuf/timestamp.proto`)) {
      throw new Error(`${SYSTEM_INCLUDE}/google/protobuf/timestamp.proto is missing: install the Debian package "libprotobuf-dev" (.ci/run does)`);
    }
    return;
  }
  const found = spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
  if (!found) throw new Error(`"${name}" is not installed: install the Debian package "${PACKAGES[name]}" (.ci/run does)`);
}

/** Runs protoc with schemas/proto and /usr/include on the include path; throws with its stderr on failure. */
export function protoc(args: string[], stdin?: Uint8Array | string): Buffer {
  const r = spawnSync("protoc", [`-I${PROTO_DIR}`, `-I${SYSTEM_INCLUDE}`, ...args], { input: stdin, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`protoc ${args.join(" ")} failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout;
}

/** Runs a command to completion, collecting stdout as bytes; rejects on a non-zero exit or after timeoutMs. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): { done: Promise<Buffer>; kill(): void } {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const done = new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")}: no exit within ${timeoutMs} ms; stderr: ${Buffer.concat(err).toString()}`));
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${Buffer.concat(err).toString()}`));
    });
  });
  return { done, kill: () => child.kill("SIGKILL") };
}

/**
 * A value for every field of a type (every scalar kind, enums, nested messages, repeated fields;
 * one member per real oneof), with numbers exactly representable in float32 so that text output
 * compares exactly. Recursion stops at depth 3.
 */
export function sampleOf(type: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const takenOneofs = new Set<string>();
  for (const field of type.fieldsArray) {
    const oneof = field.partOf;
    if (oneof && oneof.oneof.length > 1) {
      if (takenOneofs.has(oneof.name)) continue;
      takenOneofs.add(oneof.name);
    }
    const one = (i: number): unknown => scalarSample(field, i, depth);
    if (field.map) continue; // none in our schemas; protoc text for maps is ordered differently
    const value = field.repeated ? [one(1), one(2)] : one(1);
    if (value !== undefined) out[field.name] = value;
  }
  return out;
}

function scalarSample(field: protobuf.Field, i: number, depth: number): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) {
    if (t.fullName === ".google.protobuf.Timestamp") return { seconds: 1_700_000_000 + i, nanos: 250_000_000 * i };
    return depth < 3 ? sampleOf(t, depth + 1) : undefined;
  }
  if (t instanceof protobuf.Enum) {
    const values = Object.values(t.values);
    return values[Math.min(i, values.length - 1)];
  }
  switch (field.type) {
    case "double":
    case "float":
      return i === 1 ? 1.5 : -0.25;
    case "int32":
    case "sint32":
    case "sfixed32":
    case "int64":
    case "sint64":
    case "sfixed64":
      return i === 1 ? -7 : 300;
    case "uint32":
    case "fixed32":
    case "uint64":
    case "fixed64":
      return i === 1 ? 7 : 70_000;
    case "bool":
      return true;
    case "string":
      return `s${i}-ü`;
    case "bytes":
      return Uint8Array.from([0, 1, 2, 255, i]);
    default:
      throw new Error(`no sample for field ${field.fullName} of type ${field.type}`);
  }
}
