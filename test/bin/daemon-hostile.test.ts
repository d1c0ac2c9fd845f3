/**
 * Hostile and broken inputs against the daemon as `fusiond run` composes it (issue #22), with the
 * simulator driving over a real broker (Mosquitto when it is up, else the embedded one, as it says):
 * - a wrong clock: one EgoState stamped 20 s ahead and one radar scan 45 s ahead → rejected as `future`,
 *   decisions keep ≥ 95% of their rate, /healthz stays truthful;
 * - a full disk (a real tmpfs of a few hundred KB as the recording directory): recording fails with the
 *   reason logged once, /readyz 503 with `recording: failed: ENOSPC`, decisions go on; when space is back
 *   recording continues in a new file and /readyz is 200 again; stop() resolves (SIGTERM exits 0);
 * - a start with too little free space: not ready, with the reason.
 * The tmpfs needs root (CI runs as root); elsewhere those cases say why they cannot run.
 */
import { strict as assert } from "node:assert";
import { readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { McapIndexedReader } from "@mcap/core";
import { startDaemon } from "../../bin/daemon/daemon.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { decompressHandlers, fileSource } from "../../replay/index.ts";
import { defaultCodec, TopicRegistry } from "../../schemas/index.ts";
import { mosquittoOrAedes, sleep, uniqueVehicle, waitFor, type TestBroker } from "../sensors/helpers.ts";
import { capturedLogger, daemonConfig, simulatorOn, tearDown, untrainedModel } from "./daemon-helpers.ts";
import { tmpfs } from "./tmpfs.ts";

const codec = defaultCodec();
const ts = (ns: bigint) => ({ seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) });

async function probe(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}


describe("bin/daemon: hostile inputs (a wrong clock, a full disk)", function () {
  this.timeout(120_000);
  let model: string;
  let broker: TestBroker;
  before(async () => {
    model = await untrainedModel();
    broker = await mosquittoOrAedes();
  });
  after(async () => {
    await broker.stop();
  });

  it("one message stamped 20 s (ego) or 45 s (radar) in the future is rejected as `future`; decisions keep their rate", async () => {
    const vehicle = uniqueVehicle("future");
    const registry = new TopicRegistry(vehicle);
    const log = capturedLogger();
    const daemon = await startDaemon({ config: daemonConfig(vehicle, broker.url, model), logger: log.logger });
    const feed = await simulatorOn(broker.url, vehicle, 40);
    try {
      await waitFor(() => daemon.pipeline.metrics().decisions >= 20, "first decisions", 30_000);
      // The nominal rate is the camera's: every camera frame that arrives should become a decision. (Counted
      // against frames received rather than 20 Hz, so a simulator slowed by a loaded machine is not blamed.)
      const camera = registry.topicFor("camera", "front");
      const window = async (ms: number): Promise<{ frames: number; decisions: number }> => {
        const a = daemon.pipeline.metrics();
        await sleep(ms);
        const b = daemon.pipeline.metrics();
        return { frames: (b.topics[camera]?.in ?? 0) - (a.topics[camera]?.in ?? 0), decisions: b.decisions - a.decisions };
      };
      const before = await window(3000);
      const now = wallNs();
      const ego = codec.encode("fusiond.EgoState", { timestamp: ts(now + 20_000n * 1_000_000n), speed_mps: 10, yaw_rate_rps: 0 });
      const radar = codec.encode("fusiond.RadarScan", { timestamp: ts(now + 45_000n * 1_000_000n), returns: [{ range_m: 30, azimuth_rad: 0, radial_velocity_mps: -1 }] });
      await feed.client.publish(registry.topicFor("ego"), ego, { qos: 1 });
      await feed.client.publish(registry.topicFor("radar", "front"), radar, { qos: 1 });
      const during = await window(4000);
      const m = daemon.pipeline.metrics();
      assert.equal(m.rejectedByReason.future, 2, JSON.stringify(m.rejectedByReason));
      assert.ok(before.frames >= 40 && during.frames >= 50, `the simulator kept publishing: ${JSON.stringify({ before, during })}`);
      assert.ok(during.decisions >= 0.95 * during.frames, `decisions in 4 s after the attack: ${during.decisions} of ${during.frames} camera frames (before: ${before.decisions} of ${before.frames})`);
      const health = await probe(`${daemon.http!.url}/healthz`);
      assert.equal(health.status, 200, JSON.stringify(health.body));
      assert.equal(health.body["decisions"], "flowing");
      const metrics = await (await fetch(`${daemon.http!.url}/metrics`)).text();
      assert.match(metrics, /fusiond_rejected_total\{reason="future"\} 2/);
      assert.match(metrics, /fusiond_decisions_stalled 0/);
      assert.ok(log.lines.some((l) => l["reason"] === "future" && /synchronise clocks/.test(String(l["detail"]))), "logged once with what to do");
    } finally {
      await tearDown(feed, daemon);
    }
  });

  it("a full disk: fails with the reason once, not ready, decisions go on; continues in a new file when space is back; stop resolves", async function () {
    const fs = tmpfs(384);
    if ("why" in fs) {
      console.log(`      (not run here: ${fs.why})`);
      this.skip(); // needs root to mount a tmpfs; CI runs as root
    }
    const vehicle = uniqueVehicle("diskfull");
    const log = capturedLogger();
    const daemon = await startDaemon({
      config: daemonConfig(vehicle, broker.url, model, { recording: { dir: fs.dir, minFreeMB: 0, retryS: 1, compression: "none" } }),
      logger: log.logger,
    });
    const feed = await simulatorOn(broker.url, vehicle, 60);
    try {
      await waitFor(() => daemon.pipeline.metrics().decisions >= 10, "first decisions", 30_000);
      await waitFor(() => log.lines.some((l) => String(l["msg"]).startsWith("recording failed")), "the disk to fill", 40_000);
      const ready = await probe(`${daemon.http!.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(String(ready.body["recording"]), /^failed: ENOSPC .*no space left on device/);
      const d0 = daemon.pipeline.metrics().decisions;
      await sleep(2000);
      assert.ok(daemon.pipeline.metrics().decisions - d0 >= 30, "decisions go on while the disk is full");
      assert.equal(log.lines.filter((l) => String(l["msg"]).startsWith("recording failed")).length, 1, "logged once");
      const metrics = await (await fetch(`${daemon.http!.url}/metrics`)).text();
      assert.match(metrics, /fusiond_recording_failed 1/);
      // Space comes back: the operator deletes the file that filled the disk.
      const [full] = readdirSync(fs.dir);
      unlinkSync(join(fs.dir, full!));
      await waitFor(() => log.lines.some((l) => l["msg"] === "recording resumed in a new file"), "recording to resume", 20_000);
      const again = await probe(`${daemon.http!.url}/readyz`);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body["recording"], "ok");
      const resumedIn = daemon.recordingFiles().at(-1)!;
      await sleep(300);
      await daemon.stop("test"); // resolves; the disk may well be full again by now
      // The file written after the retry is either complete, or (if the disk filled again) recoverable.
      const files = readdirSync(fs.dir);
      assert.ok(files.length >= 1, "the resumed file is there");
      const source = await fileSource(resumedIn);
      try {
        const reader = await McapIndexedReader.Initialize({ readable: source, decompressHandlers });
        assert.ok((reader.statistics?.messageCount ?? 0n) > 0n);
      } catch {
        assert.ok(log.lines.some((l) => String(l["msg"]).startsWith("recording failed")), "only a second failure may leave it unclosed");
      } finally {
        await source.close();
      }
    } finally {
      await tearDown(feed, daemon);
      fs.unmount();
    }
  });

  it("a start with too little free space: not ready, with the reason; decisions go on", async function () {
    const fs = tmpfs(256);
    if ("why" in fs) {
      console.log(`      (not run here: ${fs.why})`);
      this.skip(); // needs root to mount a tmpfs; CI runs as root
    }
    const vehicle = uniqueVehicle("lowspace");
    const log = capturedLogger();
    const daemon = await startDaemon({ config: daemonConfig(vehicle, broker.url, model, { recording: { dir: fs.dir, minFreeMB: 64 } }), logger: log.logger });
    const feed = await simulatorOn(broker.url, vehicle, 30);
    try {
      await waitFor(() => daemon.pipeline.metrics().decisions >= 10, "decisions", 30_000);
      const ready = await probe(`${daemon.http!.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(String(ready.body["recording"]), /failed: low_space .*MB free in .* below recording\.minFreeMB \(64 MB\)/);
      assert.deepEqual(readdirSync(fs.dir), [], "no file started");
    } finally {
      await tearDown(feed, daemon);
      fs.unmount();
    }
  });

  it("connected but nothing accepted (a broker ACL that grants and delivers nothing, sensors not started): not ready after 5 s, saying so", async () => {
    const vehicle = uniqueVehicle("quiet");
    const daemon = await startDaemon({ config: daemonConfig(vehicle, broker.url, model), logger: capturedLogger().logger });
    try {
      const early = await probe(`${daemon.http!.url}/readyz`);
      assert.equal(early.status, 200, "ready at start (the grace)");
      await sleep(5500);
      const late = await probe(`${daemon.http!.url}/readyz`);
      assert.equal(late.status, 503);
      assert.match(String(late.body["inputs"]), /^none accepted for \d+\.\d s \(sensors on vehicles\/.*a broker ACL/);
    } finally {
      await daemon.stop("test");
    }
  });
});
