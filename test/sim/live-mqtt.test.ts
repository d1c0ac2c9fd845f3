/**
 * The simulator over MQTT (sim/live.ts): lockstep with a stub decider completes an episode with no lost
 * or duplicated steps; live mode paces by receive stamps and applies the latest decision (closed loop);
 * stop() ends an episode cleanly. Mosquitto on 127.0.0.1:1883, or the embedded aedes broker (said so).
 */
import assert from "node:assert/strict";
import { map } from "rxjs";
import { TopicRegistry } from "../../schemas/topics.ts";
import { MqttTransport, SensorSink, SensorSource } from "../../sensors/index.ts";
import { startLiveSim, wallClock } from "../../sim/live.ts";
import type { DecisionLike } from "../../sim/lockstep.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import { mosquittoOrAedes, uniqueVehicle, type TestBroker } from "../sensors/helpers.ts";
import { stubDecider } from "./stub-decider.ts";

async function rig(broker: TestBroker): Promise<{ vehicle: string; sim: MqttTransport; decider: MqttTransport; source: SensorSource; close(): Promise<void> }> {
  const vehicle = uniqueVehicle("sim");
  const sim = await MqttTransport.connect({ url: broker.url, now: wallClock.nowNs, clientId: `${vehicle}-sim` });
  const decider = await MqttTransport.connect({ url: broker.url, now: wallClock.nowNs, clientId: `${vehicle}-decider` });
  const source = new SensorSource(sim);
  return {
    vehicle,
    sim,
    decider,
    source,
    async close() {
      source.close();
      await sim.close();
      await decider.close();
    },
  };
}

/** Waits (up to 2 s) for messages still on their way; the assertions after it say what was missing. */
async function settled(cond: () => boolean): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

const decisionsOf = (source: SensorSource, vehicle: string) =>
  source.messages([new TopicRegistry(vehicle).topicFor("decision")]).pipe(map((m) => m.message as DecisionLike));

describe("sim over MQTT (sim/live.ts)", function () {
  this.timeout(90_000);
  let broker: TestBroker;
  before(async () => {
    broker = await mosquittoOrAedes();
  });
  after(async () => broker.stop());

  it("lockstep with a stub decider completes an episode with no lost or duplicated steps", async () => {
    const r = await rig(broker);
    try {
      const decider = stubDecider({ vehicle: r.vehicle, source: r.decider, sink: r.decider });
      // Let the decider's subscription reach the broker before step 0 goes out.
      await new Promise((res) => setTimeout(res, 200));
      const scenario: ScenarioSpec = { name: "lockstep-mqtt", seed: 61, durationS: 12, weather: ["fog"], events: ["cut_in", "stopped_vehicle", "voice"] };
      const sim = startLiveSim({ sink: new SensorSink(r.sim), decisions: decisionsOf(r.source, r.vehicle), scenario, vehicle: r.vehicle, lockstep: { timeoutMs: 3000, policy: "abort" } });
      const result = await sim.done;
      const n = 12 / 0.05 + 1;
      // The last step (done=true) needs no answer, so the episode may end before it reaches the decider.
      await settled(() => decider.steps.length >= n);
      await decider.close();
      assert.equal(result.stats.aborted, false);
      assert.equal(result.stats.stopped, false);
      assert.equal(result.stats.steps, n);
      assert.equal(result.stats.timeouts, 0, "every step was answered in time");
      assert.equal(result.stats.stale, 0, "no decision answered a wrong step");
      assert.equal(result.stats.decisions, n - 1, "one decision per step before the last");
      assert.deepEqual(decider.steps, Array.from({ length: n }, (_, i) => i), "the decider saw steps 0..N once each, in order");
      assert.equal(decider.done, true, "the last step says done");
      assert.equal(decider.answered, n - 1);
      assert.equal(result.stats.publishFailed, 0);
      assert.equal(result.collisions, 0, "the stub follows the expert: no collision");
      assert.equal(result.durationS.toFixed(2), "12.00");
    } finally {
      await r.close();
    }
  });

  it("lockstep applies the timeout policy when the decider skips steps, and steps still come once each", async () => {
    const r = await rig(broker);
    try {
      const decider = stubDecider({ vehicle: r.vehicle, source: r.decider, sink: r.decider, decide: (step, t) => (step % 20 === 5 || !t ? undefined : { action: t.expert_action as number, target_speed_mps: Number(t.expert_target_speed_mps) }) });
      await new Promise((res) => setTimeout(res, 200));
      const scenario: ScenarioSpec = { name: "lockstep-mqtt-skip", seed: 62, durationS: 3, weather: ["clear"], events: [] };
      const result = await startLiveSim({ sink: new SensorSink(r.sim), decisions: decisionsOf(r.source, r.vehicle), scenario, vehicle: r.vehicle, sensors: ["ego", "radar"], lockstep: { timeoutMs: 150, policy: "hold" } }).done;
      await settled(() => decider.steps.length >= 61);
      await decider.close();
      assert.equal(result.stats.timeouts, 3, "steps 5, 25 and 45 timed out");
      assert.equal(result.stats.decisions + result.stats.timeouts, result.stats.steps - 1);
      assert.deepEqual(decider.steps, Array.from({ length: 61 }, (_, i) => i));
    } finally {
      await r.close();
    }
  });

  it("live mode publishes every sensor topic in real time and drives the ego by the latest decision", async () => {
    const r = await rig(broker);
    try {
      // The decider says STOP from the start: the ego, which starts at 6–12 m/s, must come to a standstill.
      const decider = stubDecider({ vehicle: r.vehicle, source: r.decider, sink: r.decider, watchAll: true, decide: () => ({ action: "STOP", target_speed_mps: 0 }) });
      await new Promise((res) => setTimeout(res, 200));
      const scenario: ScenarioSpec = { name: "live-mqtt", seed: 63, durationS: 6, weather: ["rain"], events: ["voice"] };
      const statuses: number[] = [];
      const t0 = performance.now();
      const result = await startLiveSim({
        sink: new SensorSink(r.sim),
        decisions: decisionsOf(r.source, r.vehicle),
        scenario,
        vehicle: r.vehicle,
        speed: 2,
        onStatus: (s) => statuses.push(s.simS),
        statusEveryMs: 250,
      }).done;
      const wallS = (performance.now() - t0) / 1000;
      await new Promise((res) => setTimeout(res, 200));
      await decider.close();
      assert.ok(wallS > 2.7 && wallS < 6, `6 s at 2× took ${wallS.toFixed(2)} s of wall time`);
      assert.ok(statuses.length >= 5, "status reported while running");
      assert.ok(result.stats.decisions > 50, `decisions applied: ${result.stats.decisions}`);
      assert.ok(result.stats.speedMps < 0.3, `STOP decisions brought the ego to a standstill (v = ${result.stats.speedMps})`);
      assert.equal(result.stats.action, "STOP");
      // 6 s of each topic at its nominal rate (a little less for the in-flight ones at the end).
      const seen = decider.seen;
      for (const [kind, hz] of [["camera", 20], ["radar", 20], ["gnss", 10], ["ego", 50], ["sim_step", 20], ["sim_truth", 20]] as const) {
        const got = seen.get(kind) ?? 0;
        assert.ok(got >= 6 * hz * 0.95 && got <= 6 * hz + 2, `${kind}: ${got} messages in 6 s (nominal ${hz} Hz)`);
      }
      assert.equal(result.stats.publishFailed, 0);
    } finally {
      await r.close();
    }
  });

  it("stop() ends a live episode early with the score so far and releases its timers", async () => {
    const r = await rig(broker);
    try {
      const scenario: ScenarioSpec = { name: "live-stop", seed: 64, durationS: 60, weather: ["night"], events: [] };
      const sim = startLiveSim({ sink: new SensorSink(r.sim), decisions: decisionsOf(r.source, r.vehicle), scenario, vehicle: r.vehicle, sensors: ["ego"], driver: "expert", onStatus: () => undefined });
      await new Promise((res) => setTimeout(res, 600));
      sim.stop();
      sim.stop();
      const result = await sim.done;
      assert.equal(result.stats.stopped, true);
      assert.ok(result.durationS > 0.3 && result.durationS < 5, `stopped after ${result.durationS} s of simulated time`);
      assert.ok(result.stats.published > 10);
    } finally {
      await r.close();
    }
  });
});
