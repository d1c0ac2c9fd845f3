/** bin/daemon/observers.ts lateDropLogger: the first input the aligner drops as late is named in the log, once per topic, with what to do. */
import { strict as assert } from "node:assert";
import { config, Subject } from "rxjs";
import { lateDropLogger, logLateDrops, onceLogger } from "../../bin/daemon/observers.ts";
import type { DropEvent } from "../../pipeline/index.ts";
import { createLogger } from "../../bin/daemon/logger.ts";
import { Writable } from "node:stream";
import { TopicRegistry } from "../../schemas/index.ts";

describe("bin/daemon: late drops in the log", () => {
  it("logs the first late drop of each topic once, naming the lateness key that applies (cameras their own)", () => {
    let out = "";
    const stream = new Writable({ write: (chunk: Buffer, _e, cb) => void ((out += chunk.toString()), cb()) });
    const logger = createLogger({ level: "info", base: {}, format: "json", stream });
    const reg = new TopicRegistry("v1");
    const camera = reg.topicFor("camera", "front");
    const radar = reg.topicFor("radar", "front");
    const log = lateDropLogger(onceLogger(logger), (t) => reg.lookup(t)?.kind, { cameraMs: 250, allowedMs: 50 });
    for (let i = 0; i < 3; i++) log({ stage: "align", topic: camera, reason: "late", stampNs: BigInt(i) });
    log({ stage: "align", topic: radar, reason: "late", stampNs: 7n });
    // Not late drops, or not the aligner's: nothing.
    log({ stage: "align", topic: radar, reason: "duplicate", stampNs: 8n });
    log({ stage: "validate", topic: camera, reason: "late" } as never);
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2, out);
    assert.equal(lines[0]!["topic"], camera);
    assert.equal(lines[0]!["aligner.cameraLatenessMs"], 250);
    assert.match(String(lines[0]!["msg"]), /more than 250 ms behind the newest input \(aligner\.cameraLatenessMs\).*raise aligner\.cameraLatenessMs/);
    assert.equal(lines[0]!["stampNs"], "0");
    assert.equal(lines[1]!["topic"], radar);
    assert.match(String(lines[1]!["msg"]), /more than 50 ms .*aligner\.allowedLatenessMs/);
  });

  it("takes the drops stream's error (the pipeline failing: a refused subscription) rather than leave it unhandled", async () => {
    const unhandled: unknown[] = [];
    const before = config.onUnhandledError;
    config.onUnhandledError = (e) => void unhandled.push(e);
    try {
      const drops = new Subject<DropEvent>();
      const sub = logLateDrops(drops, () => {}, () => "camera", { cameraMs: 250, allowedMs: 50 });
      drops.error(new Error("the MQTT broker refused the subscription"));
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(unhandled, [], "an unhandled error here became an uncaught exception: exit code 7 instead of the start's 1");
      assert.equal(sub.closed, true);
      // The bare subscription it replaced (no error callback) leaves the error unhandled.
      const bare = new Subject<DropEvent>();
      bare.subscribe(lateDropLogger(() => {}, () => "camera", { cameraMs: 250, allowedMs: 50 }));
      bare.error(new Error("x"));
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(unhandled.length, 1);
    } finally {
      config.onUnhandledError = before;
    }
  });
});
