/** bin/daemon/observers.ts lateDropLogger: the first input the aligner drops as late is named in the log, once per topic, with what to do. */
import { strict as assert } from "node:assert";
import { lateDropLogger, onceLogger } from "../../bin/daemon/observers.ts";
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
});
