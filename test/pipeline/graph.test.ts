/**
 * The whole graph on a replayed drive in virtual time: injected source, a decide() slower than the
 * camera (so frames are conflated), sinks, metrics. Run twice, it decides the same.
 */
import { strict as assert } from "node:assert";
import { timer, map } from "rxjs";
import { TopicRegistry } from "../../schemas/topics.ts";
import type { FusedFrame } from "../../schemas/types.ts";
import { createPipeline, type Decided, type PipelineMetrics } from "../../pipeline/index.ts";
import { pacedByReceiveTime, virtualTimeAt } from "./paced-source.ts";
import { msg, MS, syntheticDrive, TOPIC } from "./helpers.ts";

const registry = new TopicRegistry("t");

function replay(decideMs: number) {
  const drive = syntheticDrive({ durationMs: 3000 });
  // One bad message: NaN speed on the ego topic.
  drive.splice(100, 0, msg("ego", drive[100]!.stampNs + 1n, { speed_mps: Number.NaN }, drive[100]!.receiveNs));
  const scheduler = virtualTimeAt(drive[0]!.receiveNs); // the clock reads receive time, as it does live
  const decisions: Decided<string>[] = [];
  const recorded: string[] = [];
  const snapshots: PipelineMetrics[] = [];
  const pipeline = createPipeline({
    sources: [pacedByReceiveTime(drive, scheduler)],
    scheduler,
    registry,
    aligner: { allowedLatenessNs: 20n * MS, maxDelayNs: 200n * MS },
    health: { expect: Object.values(TOPIC) },
    // A model that takes `decideMs` of scheduler time.
    decide: (f: FusedFrame) => timer(decideMs, scheduler).pipe(map(() => (f.present.radar ? "follow" : "cruise"))),
    sinks: [{ decision: (d) => void decisions.push(d), message: (m) => void recorded.push(m.topic) }, { frame: () => Promise.reject(new Error("sink down")) }],
    metricsIntervalNs: 1000n * MS,
  });
  pipeline.metrics$.subscribe((m) => snapshots.push(m));
  pipeline.start();
  scheduler.flush();
  return { drive, decisions, recorded, snapshots, pipeline };
}

describe("pipeline/graph", () => {
  it("runs sources through validation, health, alignment and decide into the sinks, with metrics", async () => {
    const { drive, decisions, recorded, snapshots, pipeline } = replay(70);
    const final = await pipeline.done;
    assert.equal(final.done, true);
    assert.equal(final.messagesIn, drive.length);
    assert.deepEqual(final.rejectedByReason, { invalid: 1 }, JSON.stringify(final.rejectedByReason));
    assert.equal(final.rejected, 1);
    assert.deepEqual(final.rejectedByReason, { invalid: 1 });
    assert.equal(final.accepted, drive.length - 1);
    assert.equal(recorded.length, final.accepted, "the message sink sees every accepted message");
    assert.equal(final.frames, 60, "20 Hz for 3 s");
    // decide takes 70 ms, frames come every 50 ms: some are conflated, the rest decided.
    const conflated = final.drops.filter((d) => d.stage === "decide" && d.reason === "conflated").reduce((n, d) => n + d.count, 0);
    assert.ok(conflated > 0);
    assert.equal(final.decisions + conflated, final.frames);
    assert.equal(decisions.length, final.decisions);
    assert.equal(final.latency.count, final.decisions);
    assert.ok(final.latency.minNs! >= 70n * MS, "latency includes the decide time");
    assert.equal(final.alignerWait.count, final.frames);
    // The failing frame sink is counted, not fatal (its rejections settle after the last snapshot).
    assert.equal(pipeline.metrics().drops.find((d) => d.stage === "sink.frame")?.count, final.frames);
    assert.equal(final.healthTopics, 5);
    // Every second of scheduler time, and once at the end.
    const start = drive[0]!.receiveNs / MS;
    assert.deepEqual(
      snapshots.map((s) => s.atNs / MS - start),
      [1000n, 2000n, 3000n, final.atNs / MS - start],
    );
    assert.ok(pipeline.health.get(TOPIC.camera)!.rateOk);
  });

  it("decides the same on every replay of the same drive", () => {
    const a = replay(30).decisions.map((d) => [d.frame.seq, d.decision, d.decidedNs, d.latencyNs]);
    const b = replay(30).decisions.map((d) => [d.frame.seq, d.decision, d.decidedNs, d.latencyNs]);
    assert.ok(a.length > 50);
    assert.deepEqual(a, b);
  });
});
