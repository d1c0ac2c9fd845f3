/** File and model tools: cat, filter, merge, models, --version with the build, shell completion. */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sinon from "sinon";
import { main } from "../../bin/main.ts";
import { buildVersion } from "../../bin/version.ts";
import { fileSource, McapRecording, type RecordedMessage } from "../../replay/index.ts";
import { FUSIOND_VERSION } from "../../bin/version.ts";

const GOLDEN = "test/golden/live-drive.mcap";

async function fusiond(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const err = sinon.stub(process.stderr, "write").callsFake((c: string | Uint8Array) => ((stderr += String(c)), true));
  const out = sinon.stub(process.stdout, "write").callsFake((c: string | Uint8Array) => ((stdout += String(c)), true));
  const before = process.exitCode;
  try {
    const status = (await main(["node", "fusiond", ...args])) ?? (typeof process.exitCode === "number" ? process.exitCode : 0);
    return { status, stdout, stderr };
  } finally {
    err.restore();
    out.restore();
    process.exitCode = before;
  }
}

async function read(file: string, topics?: string[]): Promise<RecordedMessage[]> {
  const rec = await McapRecording.open(await fileSource(file));
  const out: RecordedMessage[] = [];
  try {
    for await (const m of rec.messages(topics ? { topics } : {})) out.push(m);
  } finally {
    await rec.close();
  }
  return out;
}

const key = (m: RecordedMessage): string => `${m.topic} ${m.receiveNs} ${m.publishNs} ${Buffer.from(m.bytes).toString("base64")}`;

describe("bin: file and model tools", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-tools-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("cat prints decoded messages, one line each, and --json with times beside the ns", async () => {
    const text = await fusiond("cat", GOLDEN, "-t", "vehicles/+/decision", "-n", "3");
    assert.equal(text.status, 0, text.stderr);
    const lines = text.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3);
    for (const l of lines) assert.match(l, /^2026-11-28T13:04:\d\d\.\d{9}Z {2}vehicles\/golden\/decision {2}fusiond\.DrivingDecision {2}\{"/);
    const json = await fusiond("cat", GOLDEN, "--json", "-t", "vehicles/+/sensors/radar/#", "--start", "1", "--end", "2");
    const rows = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { topic: string; stampNs: string; stamp: string; message: { returns: unknown[] } });
    assert.ok(rows.length > 10 && rows.length < 30, `${rows.length} radar scans in a second`);
    assert.ok(rows.every((r) => r.topic === "vehicles/golden/sensors/radar/front" && Array.isArray(r.message.returns)));
    assert.ok(rows[0]!.stamp.startsWith("2026-11-28T13:04:2"));
  });

  it("filter keeps exactly the chosen topics in the range, bytes and stamps as they were", async () => {
    const out = join(dir, "ego.mcap");
    const r = await fusiond("filter", GOLDEN, "--topics", "vehicles/+/ego", "--start", "1", "--end", "2", "-o", out, "--json");
    assert.equal(r.status, 0, r.stderr);
    const got = await read(out);
    const all = await read(GOLDEN, ["vehicles/+/ego"]);
    const t0 = (await read(GOLDEN))[0]!.receiveNs;
    const want = all.filter((m) => m.receiveNs >= t0 + 1_000_000_000n && m.receiveNs < t0 + 2_000_000_000n);
    assert.equal(JSON.parse(r.stdout).messages, got.length);
    assert.ok(got.length > 0);
    // The range's end may be inclusive: compare the common part and require at most one message more.
    assert.deepEqual(got.slice(0, want.length).map(key), want.map(key));
    assert.ok(got.length - want.length <= 1);
  });

  it("merge gives one recording in log-time order with every message of each input", async () => {
    const a = join(dir, "a.mcap");
    const b = join(dir, "b.mcap");
    assert.equal((await fusiond("filter", GOLDEN, "-t", "vehicles/+/ego", "-o", a)).status, 0);
    assert.equal((await fusiond("filter", GOLDEN, "-t", "vehicles/+/sensors/#", "-o", b)).status, 0);
    const out = join(dir, "merged.mcap");
    const r = await fusiond("merge", a, b, "-o", out);
    assert.equal(r.status, 0, r.stderr);
    const merged = await read(out);
    const want = await read(GOLDEN, ["vehicles/+/ego", "vehicles/+/sensors/#"]);
    assert.equal(merged.length, want.length);
    for (let i = 1; i < merged.length; i++) assert.ok(merged[i]!.receiveNs >= merged[i - 1]!.receiveNs, "log-time order");
    assert.deepEqual(merged.map(key).sort(), want.map(key).sort());
    assert.equal((await fusiond("merge", a, "-o", join(dir, "one.mcap"))).status, 2, "one input is a usage error");
    assert.equal((await fusiond("merge", a, b, "-o", a)).status, 2, "writing over an input is refused");
  });

  it("-o - writes the recording to stdout (the process's own, e.g. a file it was redirected to)", async () => {
    const out = join(dir, "stdout.mcap");
    const { openSync, closeSync } = await import("node:fs");
    const fd = openSync(out, "w");
    try {
      const r = spawnSync(process.execPath, ["bin/fusiond.js", "filter", GOLDEN, "-t", "vehicles/+/ego", "-o", "-"], { stdio: ["ignore", fd, "pipe"], encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /wrote stdout: 200 messages/);
    } finally {
      closeSync(fd);
    }
    assert.equal((await read(out)).length, 200);
  });

  it("a filter that fails leaves no output", async () => {
    const bogus = join(dir, "bogus.mcap");
    writeFileSync(bogus, "not mcap");
    const before = readdirSync(dir).length;
    assert.equal((await fusiond("filter", bogus, "-o", join(dir, "never.mcap"))).status, 1);
    assert.equal(readdirSync(dir).length, before);
  });

  it("models lists the shipped models with strategy, inputs, hash and test scores from their cards", async () => {
    const r = await fusiond("models", "--json");
    assert.equal(r.status, 0, r.stderr);
    const models = JSON.parse(r.stdout) as { dir: string; name: string; strategy: string; modalities: string[]; hash: string; macroF1: number | null; metricsOn: string; radar: string }[];
    const d = models.find((m) => m.name === "default")!;
    assert.equal(d.strategy, "intermediate");
    assert.deepEqual(d.modalities, ["camera", "radar", "gnss", "ego", "voice"]);
    assert.match(d.hash, /^[0-9a-f]{16}$/);
    assert.equal(d.metricsOn, "test");
    assert.ok(d.macroF1! > 0.5);
    // The default is served on the latest radar scan (its input spec's serving choice); multi-camera waits for it.
    assert.equal(d.radar, "latest (served)");
    assert.equal(models.find((m) => m.name === "multi-camera")!.radar, "nearest");
    const one = JSON.parse((await fusiond("models", "models/camera-only", "--json")).stdout) as { name: string }[];
    assert.deepEqual(one.map((m) => m.name), ["camera-only"]);
    const table = await fusiond("models");
    assert.match(table.stdout, /^directory +name +strategy +reads +radar scan +hash +macro-F1 +accuracy +on$/m);
    assert.equal((await fusiond("models", join(dir, "none"))).status, 1);
  });

  it("a reader that goes away (fusiond models | head) ends the command quietly, not with an unhandled EPIPE", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["bin/fusiond.js", "models"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // the reader is gone before the first line is written
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(status, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  });

  it("--version names the git commit in a checkout, and is the package version elsewhere", () => {
    assert.match(buildVersion(), new RegExp(`^${FUSIOND_VERSION.replace(/\./g, "\\.")} \\(git [0-9a-f]{7,}(, modified)?\\)$`));
    assert.equal(buildVersion(dir), FUSIOND_VERSION);
  });

  it("completion: the bash script completes commands and a command's options", async () => {
    const r = await fusiond("completion", "bash");
    assert.equal(r.status, 0);
    const script = join(dir, "fusiond.bash");
    writeFileSync(script, r.stdout);
    const complete = (...words: string[]): string[] => {
      const b = spawnSync("bash", ["-c", `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _fusiond; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: "utf8" });
      assert.equal(b.status, 0, b.stderr);
      return b.stdout.split("\n").filter(Boolean);
    };
    assert.deepEqual(complete("fusiond", "ca"), ["cat"]);
    assert.deepEqual(complete("fusiond", "filter", "--st"), ["--start"]);
    assert.ok(complete("fusiond", "replay", "--").includes("--model"));
    const zsh = await fusiond("completion", "zsh");
    assert.match(zsh.stdout, /^#compdef fusiond/);
    assert.match(zsh.stdout, /commands=\(.*\bcat\b.*\bmodels\b.*\)/);
    assert.equal((await fusiond("completion", "fish")).status, 2);
  });
});
