/**
 * Live mode does not wait for one instant's publishes before the next: the simulator's QoS 1 messages (SimStep,
 * GroundTruth) complete at their PUBACK, and a broker with Nagle on (Mosquitto's default) delayed those ~40 ms each,
 * which held every sensor message behind them (4 × 64×64 into Mosquitto: receive − stamp p50 726 ms). Bounded:
 * a sink that never completes stalls the schedule at MAX_PENDING_PUBLISHES, and stop() still ends the run.
 */
import { strict as assert } from "node:assert";
import { MAX_PENDING_PUBLISHES, startLiveSim, wallClock } from "../../sim/live.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import { timestampToNs } from "../../schemas/time.ts";

const scenario = (durationS: number): ScenarioSpec => ({ name: "live-publish", seed: 7, durationS, weather: ["clear"], events: [] });
const stampOf = (message: object): bigint | undefined => {
  const t = (message as { timestamp?: { seconds: number; nanos: number } }).timestamp;
  return t ? timestampToNs(t) : undefined;
};

describe("startLiveSim: publishing does not wait for acks", function () {
  this.timeout(30_000);

  it("radar and ego leave on time while every SimStep / GroundTruth takes 120 ms to complete", async () => {
    const lateMs: number[] = [];
    let slow = 0;
    let completedSlow = 0;
    const sim = startLiveSim({
      sink: {
        publish: (topic, message) => {
          if (topic.endsWith("/sim/step") || topic.endsWith("/sim/truth")) {
            slow++;
            return new Promise((resolve) => setTimeout(() => (completedSlow++, resolve({ ok: true })), 120));
          }
          const stamp = stampOf(message);
          if (stamp !== undefined && (topic.includes("/radar/") || topic.endsWith("/ego"))) lateMs.push(Number(wallClock.nowNs() - stamp) / 1e6);
          return Promise.resolve({ ok: true });
        },
      },
      scenario: scenario(2),
      sensors: ["radar", "ego"],
      latencyScale: 0,
      driver: "expert",
    });
    const r = await sim.done;
    assert.ok(slow >= 2 * 30, `${slow} slow publishes`);
    // done waits for the last of them: every publish has completed and is counted.
    assert.equal(completedSlow, slow);
    assert.equal(r.stats.publishFailed, 0);
    const sorted = [...lateMs].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
    // Awaiting them, a step (2 × 120 ms of acks) took 240 ms of its 50: messages left seconds late by the end.
    assert.ok(p90 < 60, `radar/ego left p90 ${p90.toFixed(1)} ms (max ${sorted.at(-1)!.toFixed(1)}) after their stamps`);
  });

  it("a sink that never completes holds at most MAX_PENDING_PUBLISHES (+ one instant) and stop() ends the run", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const sim = startLiveSim({
      sink: {
        publish: () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          return new Promise(() => undefined);
        },
      },
      scenario: scenario(60),
      sensors: ["radar", "ego", "gnss"],
      latencyScale: 0,
      driver: "expert",
      speed: 50,
    });
    // At 50× the schedule would reach 256 messages in well under a second: then it must stall, not grow.
    await new Promise((r) => setTimeout(r, 1500));
    const stalled = inFlight;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(inFlight, stalled, "publishing went on past the cap");
    assert.ok(maxInFlight >= MAX_PENDING_PUBLISHES, `${maxInFlight} in flight: the cap was never reached`);
    assert.ok(maxInFlight <= MAX_PENDING_PUBLISHES + 16, `${maxInFlight} in flight (cap ${MAX_PENDING_PUBLISHES})`);
    assert.ok(sim.status().lagMs > 0 || sim.status().maxLagMs >= 0);
    sim.stop();
    const r = await sim.done;
    assert.equal(r.stats.stopped, true);
  });
});
