/**
 * Time that can't be hijacked (issue #22, point 1). A steady drive (camera and radar 20 Hz, ego 50 Hz,
 * GNSS 10 Hz) runs through the whole graph in virtual time with ONE hostile message added: any kind, a
 * known or a new sensor id, any stamp (years ahead, seconds ahead, a few ms ahead, behind), arriving
 * anywhere in the drive. Property: decisions never stop for longer than the aligner's maxDelay (the gap
 * between two decisions stays within maxDelay + one camera period), nothing throws, and the pipeline
 * does not end up stalled. It must hold with the default validation (stamps > 100 ms ahead rejected as
 * `future`) and also with that bound opened to the 60 s clock-skew limit (then only the aligner's
 * receive-time-bounded watermark and per-topic marks stand between the message and a stall).
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { TopicRegistry } from "../../schemas/topics.ts";
import type { FusedFrame, Modality, SensorMessage } from "../../schemas/types.ts";
import { createPipeline, type PipelineMetrics, type ValidateOptions } from "../../pipeline/index.ts";
import { pacedByReceiveTime, virtualTimeAt } from "./paced-source.ts";
import { msg, MS, reading, syntheticDrive, TOPIC } from "./helpers.ts";

const registry = new TopicRegistry("t");
const MAX_DELAY_MS = 250n;
const CAMERA_PERIOD_MS = 50n;
const DURATION_MS = 3000;

interface Hostile {
  kind: Modality;
  newId: boolean;
  /** stamp − receive time, ns */
  leadNs: bigint;
  /** Where in the drive it arrives (fraction of the messages). */
  at: number;
}

function run(hostile: Hostile | undefined, validate: Omit<ValidateOptions, "onReject"> = {}): { decidedNs: bigint[]; final: PipelineMetrics; stalledAtEnd: boolean } {
  const drive = syntheticDrive({ durationMs: DURATION_MS, latencyMs: (kind) => (kind === "gnss" ? 80 : kind === "voice" ? 1500 : 3) });
  if (hostile) {
    const i = Math.min(drive.length - 1, Math.floor(hostile.at * drive.length));
    const receiveNs = drive[i]!.receiveNs;
    const topic = hostile.newId ? TOPIC[hostile.kind].replace(/\/[^/]+$/, "/intruder") : TOPIC[hostile.kind];
    let stampNs = receiveNs + hostile.leadNs;
    if (stampNs <= 0n) stampNs = 1n;
    const m: SensorMessage = msg(hostile.kind, stampNs, reading(hostile.kind, stampNs), receiveNs, hostile.kind === "ego" ? TOPIC.ego : topic);
    drive.splice(i, 0, m);
  }
  const scheduler = virtualTimeAt(drive[0]!.receiveNs);
  const decidedNs: bigint[] = [];
  // The last frames of the drive leave on their deadline (nothing comes after them): not a stall.
  const steadyUntilNs = drive[0]!.stampNs + BigInt(DURATION_MS - 400) * MS;
  let stalledAtEnd = false;
  const pipeline = createPipeline<string>({
    sources: [pacedByReceiveTime(drive, scheduler)],
    scheduler,
    registry,
    aligner: { noWaitFor: ["gnss"], extrapolate: [], maxDelayNs: MAX_DELAY_MS * MS },
    validate,
    decide: (f: FusedFrame) => (f.present.radar ? "follow" : "cruise"),
    sinks: { decision: (d) => void (d.frame.stampNs <= steadyUntilNs && decidedNs.push(d.decidedNs)) },
  });
  pipeline.start();
  scheduler.flush();
  stalledAtEnd = pipeline.liveness().stalled;
  return { decidedNs, final: pipeline.metrics(), stalledAtEnd };
}

function maxGapNs(times: bigint[]): bigint {
  let gap = 0n;
  for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! > gap) gap = times[i]! - times[i - 1]!;
  return gap;
}

const hostileArb: fc.Arbitrary<Hostile> = fc.record({
  kind: fc.constantFrom<Modality>("camera", "radar", "gnss", "ego", "voice"),
  newId: fc.boolean(),
  leadNs: fc.oneof(
    fc.bigInt({ min: -70_000n * MS, max: 70_000n * MS }), // anywhere within (and just past) the skew limit
    fc.bigInt({ min: -200n * MS, max: 200n * MS }), // around the future bound
    fc.constantFrom(20_000n * MS, 45_000n * MS, 59_999n * MS, 10n ** 18n, -(10n ** 18n)), // the attacks, absurd stamps
  ),
  at: fc.double({ min: 0.05, max: 0.9, noNaN: true }),
});

describe("pipeline: time that can't be hijacked (property)", () => {
  const baseline = run(undefined);

  it("a steady drive decides every camera frame with gaps of one camera period", () => {
    assert.equal(baseline.final.decisions, 60);
    assert.equal(baseline.final.rejected, 0);
    assert.ok(maxGapNs(baseline.decidedNs) <= (CAMERA_PERIOD_MS + 5n) * MS, `max gap ${maxGapNs(baseline.decidedNs) / MS} ms`);
    assert.equal(baseline.stalledAtEnd, false);
  });

  for (const [label, validate] of [
    ["default validation (future bound 100 ms)", {}],
    ["future bound opened to the 60 s skew limit", { maxFutureNs: 60_000n * MS }],
  ] as const) {
    it(`no single message stops decisions for longer than maxDelay — ${label}`, function () {
      this.timeout(120_000);
      fc.assert(
        fc.property(hostileArb, (h) => {
          const r = run(h, validate);
          const gap = maxGapNs(r.decidedNs);
          assert.ok(gap <= (MAX_DELAY_MS + CAMERA_PERIOD_MS) * MS, `decisions stopped for ${gap / MS} ms (hostile ${JSON.stringify(h, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))})`);
          assert.ok(r.decidedNs.length >= baseline.decidedNs.length - 3, `only ${r.decidedNs.length} decisions`);
          assert.equal(r.stalledAtEnd, false);
        }),
        { numRuns: 150 },
      );
    });
  }

  it("the issue's attack: one EgoState stamped 20 s ahead is rejected as `future` and decisions go on", () => {
    const r = run({ kind: "ego", newId: false, leadNs: 20_000n * MS, at: 0.3 });
    assert.equal(r.final.rejectedByReason.future, 1);
    assert.equal(r.final.decisions, 60);
    assert.equal(r.final.drops.filter((d) => d.reason === "late" && d.stage === "align").length, 0, "nothing made late");
  });

  it("a camera frame stamped 90 ms ahead (inside the bound) neither stalls nor makes real frames late", () => {
    const r = run({ kind: "camera", newId: false, leadNs: 90n * MS, at: 0.5 });
    assert.equal(r.final.rejectedByReason.future ?? 0, 0);
    assert.ok(r.final.decisions >= 60, `${r.final.decisions} decisions`);
    assert.ok(maxGapNs(r.decidedNs) <= (CAMERA_PERIOD_MS + 5n) * MS, `max gap ${maxGapNs(r.decidedNs) / MS} ms`);
  });
});
