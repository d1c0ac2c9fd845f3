import { strict as assert } from "node:assert";
import { NEVER } from "rxjs";
import { TopicRegistry } from "../../schemas/topics.ts";
import { createPipeline, DecisionLivenessMonitor, type DecisionLiveness } from "../../pipeline/index.ts";
import { pacedByReceiveTime, virtualTimeAt } from "./paced-source.ts";
import { MS, syntheticDrive, TOPIC } from "./helpers.ts";

describe("pipeline/decision-liveness", () => {
  it("is stalled once stallFrames references arrived since the last decision, until the next decision", () => {
    const l = new DecisionLivenessMonitor({ stallFrames: 3 });
    l.accepted(TOPIC.camera);
    for (let i = 1; i <= 2; i++) l.arrived(TOPIC.camera, BigInt(i) * 50n * MS);
    assert.equal(l.snapshot(100n * MS).stalled, false);
    l.arrived(TOPIC.camera, 150n * MS);
    const s = l.snapshot(160n * MS);
    assert.equal(s.stalled, true);
    assert.match(s.reason!, /no decision for 110 ms while 3 reference frames arrived \(none since start\)/);
    l.decision(170n * MS);
    assert.equal(l.snapshot(170n * MS).stalled, false);
    assert.equal(l.stalls, 1);
  });

  it("counts only topics validation accepted before (a stray camera id cannot fake a stall)", () => {
    const l = new DecisionLivenessMonitor({ stallFrames: 2 });
    for (let i = 0; i < 10; i++) l.arrived("vehicles/t/sensors/camera/intruder", BigInt(i) * MS);
    assert.equal(l.snapshot(10n * MS).stalled, false);
    assert.equal(l.snapshot(10n * MS).referencesSinceDecision, 0);
  });

  it("in the graph: a decide() that never answers shows as a stall with its reason, reported to the sinks", () => {
    const drive = syntheticDrive({ durationMs: 2000 });
    const scheduler = virtualTimeAt(drive[0]!.receiveNs);
    const changes: DecisionLiveness[] = [];
    const pipeline = createPipeline<string>({
      sources: [pacedByReceiveTime(drive, scheduler)],
      scheduler,
      registry: new TopicRegistry("t"),
      decide: () => NEVER,
      liveness: { stallFrames: 10 },
      sinks: { liveness: (l) => void changes.push(l) },
    });
    pipeline.start();
    scheduler.maxFrames = scheduler.frame + 2500; // the pipeline never finishes (decide never answers): stop the clock
    scheduler.flush();
    const l = pipeline.liveness();
    assert.equal(l.stalled, true);
    assert.ok(l.referencesSinceDecision >= 38, String(l.referencesSinceDecision));
    assert.match(l.reason!, /reference frames arrived \(none since start\)/);
    assert.equal(changes.length, 1, "one change: to stalled");
    assert.equal(pipeline.metrics().liveness.stalled, true);
  });

  it("in the graph: a deciding pipeline is never stalled", () => {
    const drive = syntheticDrive({ durationMs: 2000 });
    const scheduler = virtualTimeAt(drive[0]!.receiveNs);
    const changes: DecisionLiveness[] = [];
    const pipeline = createPipeline<string>({
      sources: [pacedByReceiveTime(drive, scheduler)],
      scheduler,
      registry: new TopicRegistry("t"),
      decide: () => "go",
      sinks: { liveness: (l) => void changes.push(l) },
    });
    pipeline.start();
    scheduler.flush();
    assert.equal(pipeline.liveness().stalled, false);
    assert.equal(changes.length, 0);
  });
});
