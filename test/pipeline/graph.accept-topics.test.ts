/**
 * Bounds under made-up topic names (issue 22): with an accepted set, 20,000 stray sensor ids —
 * as decode rejections and as messages a source let through — leave the frames and decisions as
 * they were, and every per-topic metric and health holds only the accepted topics plus "(other)".
 */
import { strict as assert } from "node:assert";
import { map, of, Subject } from "rxjs";
import { OTHER_TOPIC_LABEL, createPipeline, type PipelineMetrics } from "../../pipeline/index.ts";
import { pacedByReceiveTime, virtualTimeAt } from "./paced-source.ts";
import { SensorAllowList } from "../../schemas/sensor-allow-list.ts";
import { TopicRegistry } from "../../schemas/topics.ts";
import type { Rejection } from "../../schemas/errors.ts";
import type { FusedFrame, SensorMessage } from "../../schemas/types.ts";
import { msg, MS, syntheticDrive, TOPIC } from "./helpers.ts";

const registry = new TopicRegistry("t");
const allow = new SensorAllowList(registry, ["camera/front", "radar/front", "gnss/main", "voice/cabin"]);
const STRAYS = 20_000;

function run(strays: boolean): { final: Promise<PipelineMetrics>; health: () => string[]; frames: bigint[]; decisions: string[] } {
  const drive: SensorMessage[] = syntheticDrive({ durationMs: 2000 });
  const t0 = drive[0]!.receiveNs;
  const span = drive[drive.length - 1]!.receiveNs - t0;
  if (strays) {
    // Stray camera and radar ids through the source (they would trigger frames and fill buffers).
    for (let i = 0; i < STRAYS; i++) {
      const at = t0 + (span * BigInt(i)) / BigInt(STRAYS);
      drive.push(msg(i % 2 ? "camera" : "radar", at, {}, at, `vehicles/t/sensors/${i % 2 ? "camera" : "radar"}/x${i}`));
    }
    drive.sort((a, b) => (a.receiveNs < b.receiveNs ? -1 : a.receiveNs > b.receiveNs ? 1 : 0));
  }
  const scheduler = virtualTimeAt(t0);
  const rejections = new Subject<Rejection>();
  const frames: bigint[] = [];
  const decisions: string[] = [];
  const pipeline = createPipeline({
    sources: [pacedByReceiveTime(drive, scheduler)],
    rejections,
    scheduler,
    registry,
    acceptTopic: (t) => allow.accepts(t),
    aligner: { allowedLatenessNs: 20n * MS, maxDelayNs: 200n * MS },
    decide: (f: FusedFrame) => of(f).pipe(map(() => (f.present.radar ? "follow" : "cruise"))),
    sinks: { frame: (f) => void frames.push(f.stampNs), decision: (d) => void decisions.push(d.decision) },
  });
  pipeline.start();
  // And as decode rejections (what the daemon's decoder makes of them), on stray ids of every kind.
  if (strays) for (let i = 0; i < STRAYS; i++) rejections.next({ reason: "unknown_topic", topic: `vehicles/t/sensors/gnss/y${i}`, detail: "stray", receiveNs: t0 });
  scheduler.flush();
  return { final: pipeline.done, health: () => pipeline.health.snapshot().map((h) => h.topic), frames, decisions };
}

describe("pipeline/graph: accepted topics", () => {
  it("keeps frames and decisions, and bounds every per-topic metric, under 20,000 stray ids", async () => {
    const clean = run(false);
    const flooded = run(true);
    const [a, b] = [await clean.final, await flooded.final];
    assert.deepEqual(flooded.frames, clean.frames, "no stray triggered (or changed) a frame");
    assert.deepEqual(flooded.decisions, clean.decisions);
    const allowed = new Set([...Object.values(TOPIC), OTHER_TOPIC_LABEL]);
    assert.deepEqual(Object.keys(b.topics).filter((t) => !allowed.has(t)), [], "metric topics");
    assert.deepEqual(b.drops.map((d) => d.topic).filter((t) => !allowed.has(t)), [], "drop topics");
    assert.ok(b.drops.length <= a.drops.length + 2, `drop label sets: ${a.drops.length} → ${b.drops.length}`);
    assert.deepEqual(flooded.health().filter((t) => !allowed.has(t)), [], "health tracks accepted topics only");
    assert.equal(b.rejectedByReason.unknown_topic, 2 * STRAYS, "every stray counted");
    assert.equal(b.topics[OTHER_TOPIC_LABEL]!.rejected, 2 * STRAYS);
    assert.equal(b.unhealthyTopics, a.unhealthyTopics);
  });
});
