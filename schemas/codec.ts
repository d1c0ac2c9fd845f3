/**
 * The protobuf codec: encodes and decodes any registered message type by its full name
 * (e.g. "fusiond.RadarScan", "foxglove.CompressedImage") and builds the FileDescriptorSet
 * (dependencies first, imports included) that MCAP schema records and Foxglove need.
 *
 * The .proto files in schemas/proto are the source of truth; nothing here restates them.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor.js";
import { FusiondError } from "./errors.ts";
import type { DecodedMessages, Encodable, MessageTypeName } from "./messages.ts";
import { wireMismatch } from "./wire-check.ts";

export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), "proto");

/** A decoded message: a plain object with the proto's field names (snake_case, as in the .proto). */
export type DecodedMessage = Record<string, unknown>;

/** What decode returns for a type name: the generated interface for fusiond's wire types, else a plain object. */
export type Decoded<N extends string> = N extends MessageTypeName ? DecodedMessages[N] : DecodedMessage;

/** Options for `toJSON`. */
export interface JsonOptions {
  /** Render bytes fields as base64 (default) or as their length only ("<N bytes>"). */
  bytes?: "base64" | "length";
}

const GOOGLE_PREFIX = "google/protobuf/";

function listProtoFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listProtoFiles(path));
    else if (name.endsWith(".proto")) out.push(path);
  }
  return out.sort();
}

/** Loads every .proto under `protoDir` (default: schemas/proto) into one resolved root. */
export class ProtoCodec {
  readonly root: protobuf.Root;
  private readonly types = new Map<string, protobuf.Type>();
  private readonly descriptorCache = new Map<string, Uint8Array>();
  /** Relative file name → its imports, as written in the file. */
  private readonly imports = new Map<string, string[]>();

  constructor(readonly protoDir: string = PROTO_DIR) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin: string, target: string): string => {
      if (target.startsWith(GOOGLE_PREFIX) || target.includes(`${sep}${GOOGLE_PREFIX}`)) {
        return target.slice(target.indexOf(GOOGLE_PREFIX)); // bundled well-known types
      }
      return target.startsWith(protoDir) ? target : join(protoDir, target);
    };
    const files = listProtoFiles(protoDir);
    root.loadSync(files, { keepCase: true });
    root.resolveAll();
    this.root = root;
    for (const file of files) {
      const rel = relative(protoDir, file).split(sep).join("/");
      const parsed = protobuf.parse(readFileSync(file, "utf8"), { keepCase: true });
      this.imports.set(rel, parsed.imports ?? []);
    }
  }

  /** Every message type name known to this codec (full names without the leading dot). */
  typeNames(): string[] {
    const names: string[] = [];
    const walk = (ns: protobuf.NamespaceBase): void => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type) names.push(nested.fullName.slice(1));
        if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) walk(nested);
      }
    };
    walk(this.root);
    return names.sort();
  }

  /** The reflected type; throws FusiondError `unknown_type` if it is not registered. */
  type(typeName: string): protobuf.Type {
    let t = this.types.get(typeName);
    if (!t) {
      try {
        t = this.root.lookupType(typeName);
      } catch {
        throw new FusiondError("unknown_type", `unknown message type "${typeName}"; known: ${this.typeNames().join(", ")}`, {
          typeName,
        });
      }
      this.types.set(typeName, t);
    }
    return t;
  }

  /** Encodes a plain object (proto field names) as protobuf bytes. Throws `invalid_message` on a bad field. */
  encode<N extends string>(typeName: N, value: N extends MessageTypeName ? Encodable<DecodedMessages[N]> : object): Uint8Array {
    const t = this.type(typeName);
    const badEnum = findUnknownEnumName(t, value as Record<string, unknown>, typeName);
    if (badEnum) throw new FusiondError("invalid_message", badEnum, { typeName });
    let message: protobuf.Message;
    try {
      // fromObject accepts enum names and numeric strings; verify then checks what it built.
      message = t.fromObject(value as Record<string, unknown>);
    } catch (err) {
      throw new FusiondError("invalid_message", `${typeName}: ${(err as Error).message}`, { typeName }, { cause: err });
    }
    const problem = t.verify(message);
    if (problem) throw new FusiondError("invalid_message", `${typeName}: ${problem}`, { typeName });
    return t.encode(message).finish();
  }

  /**
   * Decodes bytes. Fields not on the wire read as their proto3 defaults. Throws FusiondError
   * `decode_error` (with the type name and the reader's reason) on bytes that are not such a message.
   */
  decode<N extends string>(typeName: N, bytes: Uint8Array): Decoded<N> {
    const t = this.type(typeName);
    try {
      return t.decode(bytes) as unknown as Decoded<N>;
    } catch (err) {
      throw new FusiondError("decode_error", `${typeName}: ${(err as Error).message}`, { typeName, bytes: bytes.length }, {
        cause: err,
      });
    }
  }

  /**
   * Decodes bytes that must be exactly a `typeName` message on the wire: every field number declared
   * by the type and every wire type the declared one (schemas/wire-check.ts). Throws FusiondError
   * `wrong_type` for bytes of another type (an unknown field, a wire-type mismatch) and `decode_error`
   * for bytes that are not protobuf at all.
   */
  decodeStrict<N extends string>(typeName: N, bytes: Uint8Array): Decoded<N> {
    const r = this.decodeChecked(typeName, bytes);
    if (r.ok) return r.message;
    throw new FusiondError(r.code, r.detail, { typeName, bytes: bytes.length });
  }

  /**
   * decodeStrict without the throw, for the per-message path: a flood of foreign payloads should
   * not cost an Error (and its stack trace) each.
   */
  decodeChecked<N extends string>(
    typeName: N,
    bytes: Uint8Array,
  ): { ok: true; message: Decoded<N> } | { ok: false; code: "wrong_type" | "decode_error"; detail: string } {
    const t = this.type(typeName);
    const reader = protobuf.Reader.create(bytes);
    let why: string | undefined;
    try {
      why = wireMismatch(t, bytes, reader);
      if (why === undefined) return { ok: true, message: t.decode(reader) as unknown as Decoded<N> };
    } catch (err) {
      return { ok: false, code: "decode_error", detail: `${typeName}: ${(err as Error).message}` };
    }
    return { ok: false, code: "wrong_type", detail: `not a ${typeName}: ${why}` };
  }

  /** A JSON-ready view (enums as names, 64-bit ints as strings, defaults included). */
  toJSON(typeName: string, message: object, options: JsonOptions = {}): Record<string, unknown> {
    const t = this.type(typeName);
    const obj = t.toObject(t.fromObject(message as Record<string, unknown>), {
      longs: String,
      enums: String,
      bytes: options.bytes === "length" ? Array : String,
      defaults: true,
    });
    return options.bytes === "length" ? replaceByteArrays(obj) : obj;
  }

  /** The .proto file (relative to protoDir, or google/protobuf/...) that declares a type. */
  fileOf(typeName: string): string {
    return this.fileOfObject(this.type(typeName));
  }

  /**
   * The files a type needs, dependencies first (a topological order of the import graph),
   * the type's own file last.
   */
  fileClosure(typeName: string): string[] {
    const order: string[] = [];
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const dep of this.imports.get(file) ?? []) visit(dep);
      order.push(file);
    };
    visit(this.fileOf(typeName));
    return order;
  }

  /**
   * A serialized google.protobuf.FileDescriptorSet holding every file the type needs,
   * dependencies first, as MCAP's protobuf profile and Foxglove expect.
   */
  fileDescriptorSet(typeName: string): Uint8Array {
    const cached = this.descriptorCache.get(typeName);
    if (cached) return cached;
    const files = this.fileClosure(typeName).map((f) => this.fileDescriptor(f));
    const set = descriptor.FileDescriptorSet.create({ file: files });
    const bytes = descriptor.FileDescriptorSet.encode(set).finish();
    this.descriptorCache.set(typeName, bytes);
    return bytes;
  }

  /** One FileDescriptorProto for a .proto file of this codec (or a bundled google/protobuf one). */
  private fileDescriptor(file: string): protobuf.Message<descriptor.IFileDescriptorProto> & descriptor.IFileDescriptorProto {
    const members: protobuf.ReflectionObject[] = [];
    let pkg = "";
    const collect = (ns: protobuf.NamespaceBase): void => {
      for (const nested of ns.nestedArray) {
        if ((nested instanceof protobuf.Type || nested instanceof protobuf.Enum) && this.fileOfObject(nested) === file) {
          members.push(nested);
          pkg = ns.fullName.slice(1);
        } else if (nested instanceof protobuf.Namespace && !(nested instanceof protobuf.Type)) {
          collect(nested);
        }
      }
    };
    collect(this.root);
    const proto = descriptor.FileDescriptorProto.create({
      name: file,
      package: pkg,
      dependency: this.imports.get(file) ?? [],
      syntax: "proto3",
    }) as protobuf.Message<descriptor.IFileDescriptorProto> & descriptor.IFileDescriptorProto;
    for (const m of members) {
      if (m instanceof protobuf.Type) proto.messageType!.push((m as unknown as DescriptorCapable).toDescriptor("proto3"));
      else proto.enumType!.push((m as unknown as DescriptorCapable).toDescriptor());
    }
    return proto;
  }

  private fileOfObject(obj: protobuf.ReflectionObject): string {
    let o: protobuf.ReflectionObject | null = obj;
    while (o && !o.filename) o = o.parent;
    if (o?.filename) {
      const gi = o.filename.indexOf(GOOGLE_PREFIX);
      if (gi >= 0) return o.filename.slice(gi);
      return relative(this.protoDir, o.filename).split(sep).join("/");
    }
    // protobufjs bundles the well-known types without a file name.
    const top = obj.fullName.split(".")[3] ?? "";
    return GOOGLE_PREFIX + (WELL_KNOWN_FILES[top] ?? top.toLowerCase()) + ".proto";
  }
}

/** google.protobuf type → its file (without directory and extension) where the name alone does not say. */
const WELL_KNOWN_FILES: Record<string, string> = {
  FieldMask: "field_mask",
  Struct: "struct",
  Value: "struct",
  ListValue: "struct",
  NullValue: "struct",
  DoubleValue: "wrappers",
  FloatValue: "wrappers",
  Int64Value: "wrappers",
  UInt64Value: "wrappers",
  Int32Value: "wrappers",
  UInt32Value: "wrappers",
  BoolValue: "wrappers",
  StringValue: "wrappers",
  BytesValue: "wrappers",
};

/**
 * protobufjs' fromObject turns an unknown enum name into 0 without a word; a misspelt action must
 * not silently become ACTION_UNSPECIFIED. Returns what is wrong, or undefined.
 */
function findUnknownEnumName(t: protobuf.Type, value: Record<string, unknown>, path: string): string | undefined {
  for (const field of t.fieldsArray) {
    const v = value[field.name];
    if (v === undefined || v === null) continue;
    const rt = field.resolvedType;
    const items = field.repeated && Array.isArray(v) ? v : [v];
    for (const item of items) {
      if (rt instanceof protobuf.Enum && typeof item === "string" && !(item in rt.values)) {
        return `${path}.${field.name}: unknown ${rt.name} value "${item}"; allowed: ${Object.keys(rt.values).join(", ")}`;
      }
      if (rt instanceof protobuf.Type && item && typeof item === "object" && !(item instanceof Uint8Array)) {
        const inner = findUnknownEnumName(rt, item as Record<string, unknown>, `${path}.${field.name}`);
        if (inner) return inner;
      }
    }
  }
  return undefined;
}

interface DescriptorCapable {
  toDescriptor(syntax?: string): never;
}

function replaceByteArrays(obj: unknown): never {
  if (Array.isArray(obj)) {
    if (obj.length > 0 && obj.every((x) => typeof x === "number")) return `<${obj.length} bytes>` as never;
    return obj.map(replaceByteArrays) as never;
  }
  if (obj && typeof obj === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = replaceByteArrays(v);
    return out as never;
  }
  return obj as never;
}

let shared: ProtoCodec | undefined;
/** The process-wide codec over schemas/proto (loaded once, on first use). */
export function defaultCodec(): ProtoCodec {
  shared ??= new ProtoCodec();
  return shared;
}
