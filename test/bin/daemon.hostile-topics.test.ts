/**
 * The daemon under a flood of made-up sensor ids and payloads of the wrong type (issue 22, points 3
 * and 4), in-process exactly as `fusiond run` composes it (startDaemon), against real Mosquitto
 * (aedes when none is running) with the simulator driving and recording on: 20,000 stray
 * camera/radar ids and 2,000 EgoStates on the real camera and radar topics. Decisions continue;
 * every rejection is counted under a bounded label set; /metrics, health and the recording's
 * channels stay what they were; RSS stays bounded.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon } from "../../bin/daemon/daemon.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { McapRecording, fileSource, recordingInfo } from "../../replay/index.ts";
import { TopicRegistry, defaultCodec, nsToTimestamp } from "../../schemas/index.ts";
import { MqttTransport } from "../../sensors/index.ts";
import { mosquittoOrAedes, sleep, uniqueVehicle, waitFor } from "../sensors/helpers.ts";
import { capturedLogger, daemonConfig, simulatorOn, tearDown, untrainedModel } from "./daemon-helpers.ts";

const STRAYS = 20_000;
const WRONG_TYPE = 2_000;

/** Metric sample lines of our own (not the process_ defaults, which move with the runtime). */
const ownSamples = (text: string): string[] => text.split("\n").filter((l) => l.startsWith("fusiond_") && !l.startsWith("fusiond_process_"));

describe("bin/daemon: a flood of stray sensor ids and wrong-type payloads", function () {
  this.timeout(120_000);

  it("keeps deciding, counts every rejection under bounded labels, and keeps /metrics, health and the recording bounded", async () => {
    const model = await untrainedModel();
    const broker = await mosquittoOrAedes();
    const vehicle = uniqueVehicle("strays");
    const registry = new TopicRegistry(vehicle);
    const codec = defaultCodec();
    const recDir = mkdtempSync(join(tmpdir(), "fusiond-strays-"));
    const log = capturedLogger();
    const daemon = await startDaemon({ config: daemonConfig(vehicle, broker.url, model, { recording: { dir: recDir, compression: "none" } }), logger: log.logger });
    const feed = await simulatorOn(broker.url, vehicle, 40);
    const attacker = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, now: wallNs, registry });
    const scrape = async (): Promise<string> => (await fetch(`${daemon.http!.url}/metrics`)).text();
    const accepted = new Set([...["camera/front", "radar/front", "gnss/main", "voice/cabin"].map((s) => `vehicles/${vehicle}/sensors/${s}`), `vehicles/${vehicle}/ego`]);
    try {
      await waitFor(() => daemon.pipeline.metrics().decisions >= 20, "first decisions", 30_000);
      await sleep(1000);
      const before = await scrape();
      const rssBefore = process.memoryUsage().rss;
      const d0 = daemon.pipeline.metrics().decisions;
      const t0 = Date.now();
      await sleep(2000);
      const calmRate = ((daemon.pipeline.metrics().decisions - d0) * 1000) / (Date.now() - t0);

      const scan = (i: number): Uint8Array =>
        codec.encode("fusiond.RadarScan", { timestamp: nsToTimestamp(wallNs()), frame_id: `x${i}`, returns: [{ range_m: 5, azimuth_rad: 0, elevation_rad: 0, radial_velocity_mps: -20, rcs_dbsm: 10 }] });
      const image = codec.encode("foxglove.CompressedImage", { timestamp: nsToTimestamp(wallNs()), frame_id: "x", data: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), format: "jpeg" });
      const ego = (): Uint8Array => codec.encode("fusiond.EgoState", { timestamp: nsToTimestamp(wallNs()), speed_mps: 30, yaw_rate_rps: 0.5, steering_rad: 0.3, frame_id: "base" });
      const d1 = daemon.pipeline.metrics().decisions;
      const t1 = Date.now();
      let sent = 0;
      const total = STRAYS + WRONG_TYPE;
      for (let batch = 0; batch < total; batch += 250) {
        const results = await Promise.all(
          Array.from({ length: Math.min(250, total - batch) }, (_, k) => batch + k).map((i) => {
            if (i >= STRAYS) return attacker.publish(registry.topicFor(i % 2 ? "camera" : "radar", "front"), ego(), { qos: 1 });
            return i % 2 ? attacker.publish(registry.topicFor("camera", `x${i}`), image, { qos: 1 }) : attacker.publish(registry.topicFor("radar", `x${i}`), scan(i), { qos: 1 });
          }),
        );
        sent += results.filter((r) => r.ok).length;
        await sleep(2); // let valid traffic interleave
      }
      assert.equal(sent, total);
      const counted = (): { unknown: number; wrong: number } => {
        const r = daemon.pipeline.metrics().rejectedByReason;
        return { unknown: r.unknown_topic ?? 0, wrong: r.wrong_type ?? 0 };
      };
      await waitFor(() => counted().unknown >= STRAYS && counted().wrong >= WRONG_TYPE, "every stray and wrong-type payload counted", 30_000);
      const floodRate = ((daemon.pipeline.metrics().decisions - d1) * 1000) / (Date.now() - t1);
      assert.deepEqual(counted(), { unknown: STRAYS, wrong: WRONG_TYPE });
      const d2 = daemon.pipeline.metrics().decisions;
      await waitFor(() => daemon.pipeline.metrics().decisions >= d2 + 20, "decisions to continue after the flood", 20_000);
      const rssGrowthMB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;

      // /metrics: the same label sets, give or take the new reasons and the one "(other)" label.
      const after = await scrape();
      const [b, a] = [ownSamples(before), ownSamples(after)];
      console.log(
        `    /metrics ${before.length} → ${after.length} bytes, ${b.length} → ${a.length} samples; decisions ${calmRate.toFixed(1)}/s calm, ${floodRate.toFixed(1)}/s during the flood (${((Date.now() - t1) / 1000).toFixed(1)} s); RSS +${rssGrowthMB.toFixed(0)} MB`,
      );
      assert.deepEqual(a.filter((l) => /sensors\/(camera|radar)\/x\d/.test(l)), [], "no stray id in any label");
      assert.ok(a.length <= b.length + 16, `samples ${b.length} → ${a.length}:\n${a.filter((l) => !b.some((x) => x.split(" ")[0] === l.split(" ")[0])).join("\n")}`);
      assert.ok(after.length <= before.length + 4096, `/metrics ${before.length} → ${after.length} bytes`);
      assert.match(after, /fusiond_drops_total\{stage="validate",topic="\(other\)",reason="unknown_topic"\} 20000/);
      assert.match(after, /fusiond_rejected_total\{reason="wrong_type"\} 2000/);
      assert.ok(rssGrowthMB < 100, `RSS grew ${rssGrowthMB.toFixed(0)} MB`);
      // In this one process the attacker, the simulator and the daemon share a loaded machine: "continue", not a rate target.
      assert.ok(floodRate > 0.3 * calmRate, `decisions ${calmRate.toFixed(1)}/s calm, ${floodRate.toFixed(1)}/s during the flood`);

      // Another 5,000 new names: not one more per-topic series (the topic label sets are closed).
      for (let batch = 0; batch < 5_000; batch += 250) {
        await Promise.all(Array.from({ length: 250 }, (_, k) => attacker.publish(registry.topicFor("radar", `z${batch + k}`), scan(k), { qos: 1 })));
      }
      await waitFor(() => counted().unknown >= STRAYS + 5_000, "the second wave counted", 30_000);
      const topicSeries = (lines: string[]): string[] => lines.filter((l) => l.includes('topic="')).map((l) => l.split(" ")[0]!);
      const again = topicSeries(ownSamples(await scrape()));
      assert.deepEqual(again.filter((k) => !topicSeries(a).includes(k)), [], "no new per-topic series after 5,000 more stray ids");

      // Health and /healthz: accepted topics only; the strays gone quiet cannot hold it at 503.
      await sleep(1500);
      assert.deepEqual(daemon.pipeline.health.snapshot().map((h) => h.topic).filter((t) => !accepted.has(t)), []);
      const healthz = await fetch(`${daemon.http!.url}/healthz`);
      const detail = (await healthz.json()) as { sensors: Record<string, unknown> };
      assert.equal(healthz.status, 200, JSON.stringify(detail));
      assert.deepEqual(Object.keys(detail.sensors).filter((t) => !accepted.has(t)), []);
      const warnings = log.lines.filter((l) => String(l["msg"]).startsWith("input rejected") && l["reason"] === "unknown_topic");
      assert.equal(warnings.length, 1, "stray ids logged once, not once each");
    } finally {
      await tearDown(feed, daemon, broker, attacker);
    }
    // The recording: accepted topics and the decisions, not one channel per stray.
    const files = readdirSync(recDir).filter((f) => f.endsWith(".mcap"));
    assert.equal(files.length, 1);
    const rec = await McapRecording.open(await fileSource(join(recDir, files[0]!)));
    const topics = (await recordingInfo(rec)).topics.map((t) => t.topic);
    await rec.close();
    assert.deepEqual(topics.filter((t) => !accepted.has(t) && t !== `vehicles/${vehicle}/decision`), [], topics.join(", "));
    assert.ok(topics.length <= accepted.size + 1);
  });
});
