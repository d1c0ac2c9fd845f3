/** Output for people and for scripts: progress only on a terminal, --json results, times people can read. */
import { strict as assert } from "node:assert";
import sinon from "sinon";
import { main } from "../../bin/main.ts";

const GOLDEN = "test/golden/live-drive.mcap";

/** Runs the CLI in this process with stdout and stderr captured; stderr is not a terminal here. */
async function fusiond(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const tty = process.stderr.isTTY;
  process.stderr.isTTY = false;
  const err = sinon.stub(process.stderr, "write").callsFake((c: string | Uint8Array) => ((stderr += String(c)), true));
  const out = sinon.stub(process.stdout, "write").callsFake((c: string | Uint8Array) => ((stdout += String(c)), true));
  const before = process.exitCode;
  try {
    const status = (await main(["node", "fusiond", ...args])) ?? (typeof process.exitCode === "number" ? process.exitCode : 0);
    return { status, stdout, stderr };
  } finally {
    err.restore();
    out.restore();
    process.stderr.isTTY = tty;
    process.exitCode = before;
  }
}

describe("bin: output for people and for scripts", function () {
  this.timeout(60_000);

  it("play into a pipe prints no progress, one final line, and --json gives the result", async () => {
    const r = await fusiond("play", GOLDEN, "--zmq", "tcp://127.0.0.1:*", "--rate", "4", "--json");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\r/);
    const result = JSON.parse(r.stdout) as { published: number; failed: number };
    assert.equal(result.published, 479);
    assert.equal(result.failed, 0);
  });

  it("--quiet prints nothing on stderr", async () => {
    const r = await fusiond("play", GOLDEN, "--zmq", "tcp://127.0.0.1:*", "--rate", "max", "--quiet");
    assert.equal(r.status, 0);
    assert.equal(r.stderr, "");
  });

  it("play of a topic filter that matches nothing fails and says how to look", async () => {
    const r = await fusiond("play", GOLDEN, "--zmq", "tcp://127.0.0.1:*", "--topics", "nomatch/#", "--quiet");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^fusiond play: .*no message matched --topics nomatch\/#: nothing was sent \(see its topics and span with: fusiond info /);
  });

  it("info shows the span as UTC times beside the nanoseconds, in text and JSON", async () => {
    const text = await fusiond("info", GOLDEN);
    assert.match(text.stdout, /^time: {6}2026-11-28T13:04:25\.299859507Z → 2026-11-28T13:04:29\.261522326Z \(UTC\)$/m);
    const json = JSON.parse((await fusiond("info", GOLDEN, "--json")).stdout) as { startNs: string; startTime: string; endTime: string };
    assert.equal(json.startNs, "1795871065299859507");
    assert.equal(json.startTime, "2026-11-28T13:04:25.299859507Z");
  });
});
