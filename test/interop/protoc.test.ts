/**
 * Our schemas and codec against the real protoc: every .proto compiles, our bytes decode with
 * `protoc --decode` to the same values, and our FileDescriptorSet stands in for the sources.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import descriptor from "protobufjs/ext/descriptor.js";
import { PROTO_DIR, defaultCodec } from "../../schemas/index.ts";
import { protoc, requireTool, sampleOf } from "./tools.ts";

const codec = defaultCodec();

function protoFiles(dir = PROTO_DIR): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : n.endsWith(".proto") ? [join(d, n)] : []));
  return walk(dir)
    .map((f) => relative(PROTO_DIR, f))
    .sort();
}

/** Every message type declared in our .proto files (not the bundled google ones). */
const ourTypes = codec.typeNames().filter((t) => !t.startsWith("google."));

describe("interop/protoc", function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    requireTool("protoc");
    requireTool("google-protos");
    dir = mkdtempSync(join(tmpdir(), "fusiond-protoc-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("compiles every .proto in schemas/proto with protoc --include_imports --descriptor_set_out", () => {
    const files = protoFiles();
    assert.ok(files.length >= 11, `found ${files.length} .proto files`);
    for (const file of files) {
      const out = join(dir, file.replaceAll("/", "_") + ".pb");
      protoc(["--include_imports", `--descriptor_set_out=${out}`, file]);
      const set = descriptor.FileDescriptorSet.decode(readFileSync(out)) as unknown as { file: Array<{ name: string; dependency: string[] }> };
      const names = set.file.map((f) => f.name);
      assert.equal(names.at(-1), file, "the file itself comes last, after its imports");
      for (const dep of set.file.at(-1)!.dependency) assert.ok(names.includes(dep), `${file}: import ${dep} is included`);
    }
  });

  it("covers every message type with a sample that sets every field", () => {
    assert.ok(ourTypes.includes("fusiond.RadarScan") && ourTypes.includes("foxglove.CompressedImage"));
    for (const t of ourTypes) {
      const sample = sampleOf(codec.type(t));
      const set = Object.keys(codec.decode(t, codec.encode(t, sample))).filter((k) => k in sample);
      assert.deepEqual(set.sort(), Object.keys(sample).sort(), `${t}: every sampled field survives our own round trip`);
    }
  });

  for (const t of ourTypes) {
    it(`${t}: our bytes decode with protoc --decode to the same values, and our FileDescriptorSet decodes them identically`, () => {
      const file = codec.fileOf(t);
      const bytes = codec.encode(t, sampleOf(codec.type(t)));
      const text = protoc([`--decode=${t}`, file], bytes).toString();
      assert.ok(text.length > 0);
      assert.doesNotMatch(text, /^\s*\d+:/m, "protoc saw no field it does not know (numbers and types agree)");
      // Same values: protoc's own encoding of what it decoded is our message again.
      const back = protoc([`--encode=${t}`, file], text);
      assert.deepEqual(codec.toJSON(t, codec.decode(t, back)), codec.toJSON(t, codec.decode(t, bytes)));
      assert.ok(Buffer.from(back).equals(Buffer.from(bytes)), "and the very same bytes (both serialize canonically)");

      // codec.fileDescriptorSet(t) in place of the .proto sources (no include path at all).
      const fds = join(dir, `${t}.fds`);
      writeFileSync(fds, codec.fileDescriptorSet(t));
      const r = spawnSync("protoc", [`--descriptor_set_in=${fds}`, `--decode=${t}`, file], { input: bytes });
      assert.equal(r.status, 0, `protoc --descriptor_set_in failed: ${r.stderr?.toString()}`);
      assert.equal(r.stdout.toString(), text);
    });
  }
});
