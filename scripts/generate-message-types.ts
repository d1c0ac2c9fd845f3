/**
 * Writes the TypeScript message types for every .proto under schemas/proto into schemas/generated/,
 * with protoc and ts-proto (types only: plain interfaces and enums, no runtime; protobufjs stays the codec).
 *
 * The options make the types describe exactly what ProtoCodec.decode returns (protobufjs' decoded messages):
 * - snakeToCamel=false      field names as in the .proto (the codec loads with keepCase)
 * - forceLong=long          64-bit integers are Long objects (protobufjs decodes int64/uint64 so, `long` installed)
 * - useDate=false           google.protobuf.Timestamp stays { seconds, nanos }
 * - useNullAsOptional=true  an absent sub-message or proto3 `optional` scalar reads as null (protobufjs' default)
 * - unrecognizedEnum=false  enums are the proto's numbers, no invented UNRECOGNIZED member
 * bytes are Uint8Array (protobufjs gives a Buffer, which is one); enums are numbers; repeated fields arrays.
 *
 * Two edits after protoc, so that the output is the same on every machine and loads nothing at run time:
 * the protoc/ts-proto version lines are dropped, and `long` is imported as a type.
 *
 * Run: npm run generate:types   (test/schemas/generated-types.test.ts fails when the committed files are stale)
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
export const PROTO_ROOT = join(REPO, "schemas", "proto");
export const GENERATED_DIR = join(REPO, "schemas", "generated");
const PLUGIN = join(REPO, "node_modules", ".bin", "protoc-gen-ts_proto");

export const TS_PROTO_OPTIONS = [
  "onlyTypes=true",
  "snakeToCamel=false",
  "forceLong=long",
  "useDate=false",
  "useNullAsOptional=true",
  "unrecognizedEnum=false",
  "esModuleInterop=true",
  "importSuffix=.ts",
];

function listFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, ext));
    else if (name.endsWith(ext)) out.push(path);
  }
  return out.sort();
}

/** The generated files, keyed by their path relative to schemas/generated (POSIX separators). */
export function generateMessageTypes(): Map<string, string> {
  const protos = listFiles(PROTO_ROOT, ".proto").map((f) => relative(PROTO_ROOT, f).split(sep).join("/"));
  const tmp = mkdtempSync(join(tmpdir(), "fusiond-types-"));
  try {
    try {
      execFileSync(
        "protoc",
        [`--plugin=protoc-gen-ts_proto=${PLUGIN}`, `--ts_proto_out=${tmp}`, `--ts_proto_opt=${TS_PROTO_OPTIONS.join(",")}`, `-I${PROTO_ROOT}`, ...protos],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
    } catch (err) {
      const e = err as { code?: string; stderr?: Buffer };
      if (e.code === "ENOENT") throw new Error("protoc is not installed: run `bash scripts/test-deps.sh` (it names the Debian packages)");
      throw new Error(`protoc failed: ${e.stderr?.toString() ?? (err as Error).message}`);
    }
    const out = new Map<string, string>();
    for (const file of listFiles(tmp, ".ts")) {
      const rel = relative(tmp, file).split(sep).join("/");
      out.set(rel, normalise(readFileSync(file, "utf8")));
    }
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Drops the version lines (they name the local protoc) and makes the `long` import type-only. */
function normalise(text: string): string {
  return text
    .replace(/^\/\/ versions:\n(\/\/ {3}.*\n)+/m, "")
    .replace(/^import Long from "long";$/m, 'import type Long from "long";');
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const files = generateMessageTypes();
  rmSync(GENERATED_DIR, { recursive: true, force: true });
  for (const [rel, text] of files) {
    const path = join(GENERATED_DIR, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote schemas/generated/${rel}`);
  }
}
