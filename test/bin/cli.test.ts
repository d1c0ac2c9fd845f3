/** The CLI surface of docs/architecture.md §2: every command is listed, has --help, and misuse exits 2 with a hint. */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const fusiond = (...args: string[]) => spawnSync(process.execPath, ["bin/fusiond.js", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

describe("bin: fusiond CLI", function () {
  this.timeout(120_000);
  const commands = ["demo", "run", "sim", "record", "play", "replay", "info", "recover", "train", "eval", "export", "echo", "keygen", "verify", "sign-keygen"];

  it("lists every command of docs/architecture.md, each with its own --help", () => {
    const help = fusiond("--help");
    assert.equal(help.status, 0);
    for (const c of commands) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, "m"), `${c} missing from --help`);
    for (const c of ["run", "demo"]) {
      const h = fusiond(c, "--help");
      assert.equal(h.status, 0, `${c} --help`);
      assert.match(h.stdout, /Examples:/, `${c} --help has examples`);
    }
  });

  it("answers an unknown command or a bad config with exit 2 and what to do", () => {
    const unknown = fusiond("rnu");
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /Did you mean run\?/);
    const bad = fusiond("run", "--http", "nope");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--http must be HOST:PORT with a port from 0 to 65535, or off, not "nope"/);
    const noInput = fusiond("run");
    assert.equal(noInput.status, 2);
    assert.match(noInput.stderr, /no input: set mqtt\.url/);
    const head = fusiond("train", "--data", "x.mcap", "--out", "/nonexistent/m", "--head", "128,0");
    assert.equal(head.status, 2);
    assert.match(head.stderr, /--head must be comma-separated whole numbers from 1 to 4096, e\.g\. 128,64, not "128,0"/);
    const ens = fusiond("train", "--data", "x.mcap", "--out", "/nonexistent/m", "--ensemble", "0");
    assert.equal(ens.status, 2);
    assert.match(ens.stderr, /--ensemble must be a whole number from 1 to 8, not "0"/);
  });
});
