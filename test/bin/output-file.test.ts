/** Nothing half-written: outputs appear whole under their name or not at all (bin/output-file.ts). */
import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sinon from "sinon";
import { main } from "../../bin/main.ts";
import { tempPathFor, writeAtomically, writeTextOutput } from "../../bin/output-file.ts";

describe("bin: output files", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-out-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("renames the temporary file into place only when the writer finishes", async () => {
    const out = join(dir, "a.json");
    await writeAtomically(out, (tmp) => {
      assert.equal(tmp, tempPathFor(out));
      writeFileSync(tmp, "half");
      assert.equal(existsSync(out), false, "not visible while being written");
      writeFileSync(tmp, "whole");
    });
    assert.equal(readFileSync(out, "utf8"), "whole");
    assert.deepEqual(readdirSync(dir), ["a.json"]);
  });

  it("a writer that throws leaves no file, and the old one untouched", async () => {
    const out = join(dir, "b.mcap");
    await assert.rejects(writeAtomically(out, (tmp) => (writeFileSync(tmp, "partial"), Promise.reject(new Error("disk full")))), /disk full/);
    assert.deepEqual(readdirSync(dir), []);
    writeFileSync(out, "old");
    await assert.rejects(writeAtomically(out, () => Promise.reject(new Error("again"))));
    assert.equal(readFileSync(out, "utf8"), "old");
  });

  it("replaces a directory whole (a model directory written again)", async () => {
    const out = join(dir, "model");
    mkdirSync(out);
    writeFileSync(join(out, "stale.bin"), "x");
    await writeAtomically(out, (tmp) => {
      mkdirSync(tmp);
      writeFileSync(join(tmp, "model.json"), "{}");
    });
    assert.deepEqual(readdirSync(out), ["model.json"]);
    assert.deepEqual(readdirSync(dir), ["model"]);
  });

  it("- means stdout", async () => {
    let written = "";
    const stub = sinon.stub(process.stdout, "write").callsFake(((chunk: string, cb?: (e?: Error | null) => void) => ((written += chunk), cb?.(), true)) as typeof process.stdout.write);
    try {
      await writeTextOutput("-", "{}\n");
    } finally {
      stub.restore();
    }
    assert.equal(written, "{}\n");
    assert.equal(existsSync(join(process.cwd(), "-")), false);
  });

  /** Runs the CLI in this process, quietly; the exit status. */
  async function fusiond(...args: string[]): Promise<number> {
    const err = sinon.stub(process.stderr, "write").returns(true);
    const before = process.exitCode;
    try {
      return (await main(["node", "fusiond", ...args])) ?? 0;
    } finally {
      err.restore();
      process.exitCode = before;
    }
  }

  it("fusiond recover of a file that is not MCAP fails and leaves no output file", async () => {
    const bogus = join(dir, "notmcap.mcap");
    writeFileSync(bogus, "this is not an MCAP file");
    assert.equal(await fusiond("recover", bogus, "-o", join(dir, "x.mcap")), 1);
    assert.deepEqual(readdirSync(dir), ["notmcap.mcap"]);
  });

  it("fusiond record against a broker that does not answer fails and leaves no file", async () => {
    assert.equal(await fusiond("record", "--mqtt", "mqtt://127.0.0.1:1", "-o", join(dir, "r.mcap"), "--quiet"), 1);
    assert.deepEqual(readdirSync(dir), []);
  });
});
