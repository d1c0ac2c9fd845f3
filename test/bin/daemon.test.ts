/**
 * The daemon under faults (issue 8): a broker restarted mid-drive, 10,000 malformed or oversized
 * payloads mixed into a valid stream, a sensor going silent. The daemon runs in-process exactly as
 * `fusiond run` composes it (startDaemon); the simulator publishes real sensor streams in real time.
 */
import { strict as assert } from "node:assert";
import { EmbeddedBroker, MqttTransport } from "../../sensors/index.ts";
import { TopicRegistry } from "../../schemas/index.ts";
import { startDaemon, type Daemon } from "../../bin/daemon/daemon.ts";
import { wallNs } from "../../sensors/wall-clock.ts";
import { freePort, mosquittoOrAedes, sleep, uniqueVehicle, waitFor } from "../sensors/helpers.ts";
import { capturedLogger, daemonConfig, decisionWatcher, simulatorOn, tearDown, untrainedModel } from "./daemon-helpers.ts";

describe("bin/daemon: fusiond run under faults", function () {
  this.timeout(90_000);
  let model: string;
  before(async () => {
    model = await untrainedModel();
  });

  it("reconnects after the broker restarts mid-drive and decisions resume", async () => {
    const port = await freePort();
    let broker = await EmbeddedBroker.start({ port });
    const url = broker.url;
    const vehicle = uniqueVehicle("restart");
    const log = capturedLogger();
    const daemon = await startDaemon({ config: daemonConfig(vehicle, url, model), logger: log.logger });
    const feed = await simulatorOn(url, vehicle, 30);
    try {
      await waitFor(() => daemon.pipeline.metrics().decisions >= 10, "first decisions", 20_000);
      await broker.stop();
      await sleep(1500);
      const before = daemon.pipeline.metrics().decisions;
      const health = await (await fetch(`${daemon.http!.url}/healthz`)).json();
      assert.equal((health as { transport: string }).transport, "disconnected (reconnecting)");
      broker = await EmbeddedBroker.start({ port });
      const watch = await decisionWatcher(url, vehicle);
      try {
        await waitFor(() => daemon.pipeline.metrics().decisions >= before + 20, "decisions after the restart", 30_000);
        await waitFor(() => watch.decisions.length >= 5, "decisions published on the restarted broker", 10_000);
      } finally {
        await watch.stop();
      }
      assert.ok(log.lines.some((l) => l["msg"] === "mqtt connection lost; reconnecting"), "the loss is logged");
    } finally {
      await tearDown(feed, daemon, broker);
    }
  });

  it("counts 10,000 malformed and oversized payloads mixed into a valid stream, and keeps deciding", async () => {
    const broker = await mosquittoOrAedes();
    const vehicle = uniqueVehicle("garbage");
    const registry = new TopicRegistry(vehicle);
    const log = capturedLogger();
    const daemon: Daemon = await startDaemon({ config: daemonConfig(vehicle, broker.url, model), logger: log.logger });
    const feed = await simulatorOn(broker.url, vehicle, 30);
    const attacker = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, now: wallNs, registry });
    try {
      await waitFor(() => daemon.pipeline.metrics().decisions >= 5, "first decisions", 20_000);
      const decisionsBefore = daemon.pipeline.metrics().decisions;
      const radar = registry.topicFor("radar", "front");
      const gnss = registry.topicFor("gnss", "main");
      const garbage = Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]); // a length prefix past the end
      const oversized = new Uint8Array(2 * 1024 * 1024); // radar's limit is 1 MiB
      let sent = 0;
      for (let batch = 0; batch < 10_000; batch += 200) {
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, k) => batch + k).map((i) => attacker.publish(i % 2 ? radar : gnss, i % 200 === 1 ? oversized : garbage, { qos: 1 })),
        );
        sent += results.filter((r) => r.ok).length;
        await sleep(5); // let valid traffic interleave
      }
      assert.equal(sent, 10_000);
      await waitFor(() => (daemon.pipeline.metrics().rejected ?? 0) >= 10_000, "every bad payload to be counted", 20_000);
      await waitFor(() => daemon.pipeline.metrics().decisions > decisionsBefore + 20, "decisions to continue", 20_000);
      const text = await (await fetch(`${daemon.http!.url}/metrics`)).text();
      const count = (reason: string): number => Number(new RegExp(`fusiond_rejected_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      assert.equal(count("decode_error") + count("oversized"), 10_000, text.split("\n").filter((l) => l.startsWith("fusiond_rejected")).join("\n"));
      assert.equal(count("oversized"), 50);
      const warnings = log.lines.filter((l) => l["msg"]?.toString().startsWith("input rejected"));
      assert.ok(warnings.length >= 1 && warnings.length <= 4, `logged once per topic and reason, got ${warnings.length}`);
    } finally {
      await tearDown(feed, daemon, broker, attacker);
    }
  });

  it("turns health false for a sensor that goes silent, and the decisions show the supervisor's fallback", async () => {
    const broker = await mosquittoOrAedes();
    const vehicle = uniqueVehicle("silent");
    const log = capturedLogger();
    const daemon = await startDaemon({ config: daemonConfig(vehicle, broker.url, model), logger: log.logger });
    const feed = await simulatorOn(broker.url, vehicle, 30);
    const watch = await decisionWatcher(broker.url, vehicle);
    try {
      await waitFor(() => watch.decisions.length >= 10, "decisions with every sensor", 20_000);
      const radarTopic = `vehicles/${vehicle}/sensors/radar/front`;
      await waitFor(() => daemon.pipeline.health.snapshot().some((h) => h.topic === radarTopic && h.alive), "radar alive", 5000);
      feed.gate.silenced.add("/sensors/radar/");
      await waitFor(() => daemon.pipeline.health.snapshot().some((h) => h.topic === radarTopic && !h.alive), "radar health to turn false", 5000);
      const healthz = await fetch(`${daemon.http!.url}/healthz`);
      assert.equal(healthz.status, 503);
      const seen = watch.decisions.length;
      await waitFor(() => watch.decisions.slice(seen).some((d) => d["override_reason"] === 3 || d["override_reason"] === "OVERRIDE_FALLBACK"), "a fallback decision", 10_000);
      const fallback = watch.decisions.slice(seen).find((d) => d["override_reason"] === 3)!;
      assert.equal(fallback["overridden"], true);
      assert.match(String(fallback["override_detail"]), /radar/);
      assert.ok(!(fallback["modalities_used"] as string[]).includes("radar"));
      // The log says so once the new status has held (HEALTH_LOG_HOLD_MS), once.
      await waitFor(() => log.lines.some((l) => l["msg"] === "sensor unhealthy" && l["topic"] === radarTopic), "the log to say radar is unhealthy", 10_000);
    } finally {
      await watch.stop();
      await tearDown(feed, daemon, broker);
    }
  });
});
