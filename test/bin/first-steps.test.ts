/** The first steps: the demo's last line runs as printed; the test command says what it needs. */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellWord } from "../../bin/commands/demo.ts";

describe("bin: first steps", function () {
  this.timeout(60_000);

  it("scripts/test-deps.sh, where it may not install, names the exact packages and fails", () => {
    const empty = mkdtempSync(join(tmpdir(), "fusiond-path-"));
    try {
      // An empty PATH: no protoc, mosquitto, chromium ... and no id/apt-get, so it may not install.
      const r = spawnSync("/bin/bash", ["scripts/test-deps.sh"], { encoding: "utf8", env: { PATH: empty } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /the tests need these Debian packages, which are missing: protobuf-compiler mosquitto mosquitto-clients openssl python3 chromium/);
      assert.match(r.stderr, /sudo apt-get install -y protobuf-compiler mosquitto /);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("scripts/test-deps.sh passes quietly where everything is there, or names what is not", () => {
    const r = spawnSync("/bin/bash", ["scripts/test-deps.sh"], { encoding: "utf8" });
    if (r.status === 0) assert.doesNotMatch(r.stderr, /missing/);
    else assert.match(r.stderr, /which are missing: [a-z0-9-]+/);
  });

  it("the demo's replay line quotes what the shell would split", () => {
    assert.equal(shellWord("recordings/demo-1.mcap"), "recordings/demo-1.mcap");
    assert.equal(shellWord("my recordings/it's.mcap"), `'my recordings/it'\\''s.mcap'`);
  });
});
