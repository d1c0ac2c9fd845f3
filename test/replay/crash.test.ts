/**
 * Crash safety, end to end: a real `fusiond record` child process records an MQTT drive, is killed
 * with SIGKILL mid-drive, and `fusiond recover` rebuilds a valid file holding every message but
 * (at most) those of the last open chunk.
 */
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MqttTransport } from "../../sensors/index.ts";
import { fileSource, McapRecording } from "../../replay/index.ts";
import { syntheticDrive } from "./synthetic.ts";
import { mosquittoOrAedes, now, sleep, uniqueVehicle, type TestBroker } from "../sensors/helpers.ts";
import { hex } from "./helpers.ts";

const FUSIOND = fileURLToPath(new URL("../../bin/fusiond.js", import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FUSIOND, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("replay/crash safety (fusiond record killed with SIGKILL, then fusiond recover)", function () {
  this.timeout(90_000);
  let broker: TestBroker;
  let dir: string;
  let child: ChildProcess | undefined;
  before(async () => {
    broker = await mosquittoOrAedes();
    dir = mkdtempSync(join(tmpdir(), "fusiond-crash-"));
  });
  after(async () => {
    child?.kill("SIGKILL");
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("recovers every message older than the last closed chunk (all but the last ~1 s)", async () => {
    const vehicle = uniqueVehicle("crash");
    const out = join(dir, "killed.mcap");
    const fixed = join(dir, "fixed.mcap");
    child = spawn(process.execPath, [FUSIOND, "record", "--mqtt", broker.url, "--topics", `vehicles/${vehicle}/#`, "--out", out], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let progress = "";
    child.stderr!.on("data", (d: Buffer) => (progress += d.toString()));
    // The first progress line means the recorder is up and subscribing; give the SUBACK a moment.
    for (let i = 0; i < 600 && !progress.includes("recording "); i++) await sleep(100);
    assert.ok(progress.includes("recording "), `record did not start: ${progress}`);
    await sleep(500);

    const drive = syntheticDrive({ durationS: 6, vehicle });
    const pub = await MqttTransport.connect({ url: broker.url, now, clientId: `crash-pub-${process.pid}` });
    const t0 = drive[0]!.receiveNs;
    const wall0 = now();
    const killAtNs = 4_000_000_000n; // drive time at which the recorder dies
    let sent = 0;
    for (const m of drive) {
      const rel = m.receiveNs - t0;
      if (rel >= killAtNs) break;
      const ahead = Number(rel - (now() - wall0)) / 1e6;
      if (ahead > 1) await sleep(ahead);
      await pub.publish(m.topic, m.bytes, { qos: 0, type: m.type });
      sent++;
    }
    await sleep(50); // let the last publishes reach the recorder
    child.kill("SIGKILL");
    await new Promise((r) => child!.once("exit", r));
    child = undefined;
    await pub.close();

    const res = await run(["recover", out, "--out", fixed, "--json"]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as { messages: number; chunks: number; wasClosed: boolean; problems: unknown[] };
    assert.equal(report.wasClosed, false);

    const rec = await McapRecording.open(await fileSource(fixed));
    assert.ok(rec.indexed, "the recovered file is valid and indexed");
    const got = [];
    for await (const m of rec.messages()) got.push(m);
    await rec.close();
    // What came back is exactly what was sent, in order, up to the last closed chunk.
    assert.equal(got.length, report.messages);
    assert.deepEqual(
      got.map((m) => [m.topic, hex(m.bytes), m.publishNs]),
      drive.slice(0, got.length).map((m) => [m.topic, hex(m.bytes), m.stampNs]),
    );
    // And it lost at most about the last second of the drive.
    const lostFrom = got.length < sent ? drive[got.length]!.receiveNs - t0 : killAtNs;
    const lostS = Number(killAtNs - lostFrom) / 1e9;
    console.log(`      sent ${sent}, recovered ${got.length} in ${report.chunks} chunks; lost the last ${lostS.toFixed(2)} s`);
    assert.ok(lostS <= 1.5, `lost ${lostS.toFixed(2)} s (> ~1 s)`);
    assert.ok(got.length > 0);
  });

  it("recover names the file and offset for a non-MCAP input and prints no stack trace", async () => {
    const bogus = join(dir, "bogus.mcap");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(bogus, "this is not mcap at all");
    const res = await run(["recover", bogus, "--out", join(dir, "x.mcap")]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`^fusiond recover: ${bogus.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: no MCAP magic; not an MCAP file at byte offset 0 \\(give an MCAP recording \\(\\.mcap\\)\\)\\n$`));
    assert.doesNotMatch(res.stderr, /\n\s+at .*:\d+:\d+/, "no stack frames");
  });
});
