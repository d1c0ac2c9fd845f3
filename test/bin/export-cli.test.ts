/** `fusiond export`: writes model.onnx beside model.json for a model directory and its recogniser, hashes in the cards. */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../../fusion/model/onnx-file.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("bin: fusiond export", function () {
  this.timeout(120_000);
  let work: string;
  before(() => (work = mkdtempSync(join(tmpdir(), "fusiond-export-cli-"))));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("writes model.onnx for a shipped model and its command recogniser, the same bytes as shipped, and the sha256 in the cards", () => {
    const dir = join(work, "voice-only");
    cpSync(join(ROOT, "models/voice-only"), dir, { recursive: true });
    rmSync(join(dir, "model.onnx"));
    rmSync(join(dir, "voice-command/model.onnx"));
    const r = spawnSync(process.execPath, ["bin/fusiond.js", "export", "--model", dir, "--json"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { dir: string; sha256: string }[];
    assert.deepEqual(out.map((o) => o.dir), [dir, join(dir, "voice-command")]);
    for (const sub of ["", "voice-command"]) {
      const bytes = readFileSync(join(dir, sub, "model.onnx"));
      assert.deepEqual(bytes, readFileSync(join(ROOT, "models/voice-only", sub, "model.onnx")), "deterministic: the shipped file again");
      assert.equal(JSON.parse(readFileSync(join(dir, sub, "card.json"), "utf8")).onnx.sha256, sha256Hex(bytes));
    }
  });

  it("a directory that is not a model is a clear error", () => {
    const r = spawnSync(process.execPath, ["bin/fusiond.js", "export", "--model", join(work, "nope")], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /model directory .*nope does not exist/);
    assert.ok(!existsSync(join(work, "nope")));
  });
});
