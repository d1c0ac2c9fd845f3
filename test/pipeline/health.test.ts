/**
 * Health of one ego topic whose registry rate is 100 Hz (one message per 10 ms), with alive =
 * a message within 3 periods (30 ms), the rate measured over 50 ms, checks every 10 ms.
 * Changes are shown as "<cause>:<flags>", upper case = true: A alive, R rateOk, V valid.
 */
import { strict as assert } from "node:assert";
import { map } from "rxjs";
import { TopicRegistry, type TopicSpec } from "../../schemas/topics.ts";
import { HealthMonitor, monitorHealth, type HealthChange } from "../../pipeline/index.ts";
import type { Rejection } from "../../schemas/errors.ts";
import { makeScheduler, msg, MS } from "./helpers.ts";

const specs: TopicSpec[] = [
  { template: "vehicles/{v}/ego", kind: "ego", type: "fusiond.EgoState", rateHz: 100, qos: 0, maxBytes: 65536, stampField: "timestamp" },
  { template: "vehicles/{v}/sensors/voice/{id}", kind: "voice", type: "foxglove.RawAudio", rateHz: null, qos: 1, maxBytes: 65536, stampField: "timestamp" },
];
const registry = new TopicRegistry("t", specs);
const flags = (c: HealthChange): string => `${c.cause}:${c.health.alive ? "A" : "a"}${c.health.rateOk ? "R" : "r"}${c.health.valid ? "V" : "v"}`;
const ego = (ms: number) => msg("ego", BigInt(ms) * MS, {}, BigInt(ms) * MS, "vehicles/t/ego");

describe("pipeline/health (marbles)", () => {
  it("derives alive and rateOk from the registry rate, and reports each change when it happens", () => {
    const scheduler = makeScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const monitor = new HealthMonitor({ registry, scheduler, aliveFactor: 3, rateWindowNs: 50n * MS, checkIntervalNs: 10n * MS, expect: ["vehicles/t/ego"] });
      // 100 Hz for 40 ms, silence, then 100 Hz again from 100 ms; the source ends at 200 ms.
      const src = hot("a 9ms b 9ms c 9ms d 9ms e 59ms f 9ms g 9ms h 89ms |", {
        a: ego(0), b: ego(10), c: ego(20), d: ego(30), e: ego(40), f: ego(100), g: ego(110), h: ego(120),
      });
      src.pipe(monitorHealth(monitor)).subscribe();
      //                at 0 alive; at 10 two messages: 100 Hz; at 80 (> 40 + 30) not alive, no rate;
      //                at 100 a gap in the stamps (60 ms) and alive again; at 110 rate back; at 160 silent again.
      expectObservable(monitor.changes$.pipe(map(flags))).toBe("a 9ms b 69ms c 19ms (xd) 6ms e 49ms f", {
        x: "gap:ArV",
        a: "status:ArV",
        b: "status:ARV",
        c: "status:arV",
        d: "status:ArV",
        e: "status:ARV",
        f: "status:arV",
      });
    });
  });

  it("counts stamps going backwards and gaps, marks the topic invalid on a rejection, and is queryable", () => {
    const scheduler = makeScheduler();
    const changes: string[] = [];
    scheduler.run(({ hot, flush }) => {
      const monitor = new HealthMonitor({ registry, scheduler, aliveFactor: 3, rateWindowNs: 50n * MS, checkIntervalNs: 10n * MS });
      monitor.changes$.subscribe((c) => changes.push(flags(c)));
      // b is stamped before a; c comes 50 ms (5 periods) after a: a gap.
      const src = hot("a 9ms b 9ms c 9ms |", { a: ego(10), b: ego(5), c: ego(60) });
      src.pipe(monitorHealth(monitor)).subscribe();
      scheduler.schedule(() => {
        monitor.rejection({ reason: "invalid", topic: "vehicles/t/ego", detail: "NaN", receiveNs: 25n * MS } satisfies Rejection);
      }, 25);
      flush();
      const h = monitor.get("vehicles/t/ego")!;
      assert.deepEqual([h.messages, h.rejected, h.backwards, h.gaps, h.valid, h.ok], [3, 1, 1, 1, false, false]);
      assert.deepEqual(monitor.snapshot().map((s) => s.topic), ["vehicles/t/ego"]);
    });
    assert.deepEqual(changes, ["status:ArV", "stamp_backwards:ARV", "status:ARV", "gap:ARV", "status:ARv"]);
  });

  it("treats sporadic topics (no nominal rate) as alive and at rate", () => {
    const scheduler = makeScheduler();
    const monitor = new HealthMonitor({ registry, scheduler, expect: ["vehicles/t/sensors/voice/cabin"] });
    assert.deepEqual(monitor.get("vehicles/t/sensors/voice/cabin")!.ok, true);
    assert.equal(monitor.get("vehicles/t/sensors/lidar/x"), undefined);
  });
});
