/** recording.topics (docs/deployment.md): only the matching sensor topics, and the decisions if they match, are recorded. */
import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon } from "../../bin/daemon/daemon.ts";
import { fileSource, McapRecording } from "../../replay/index.ts";
import { mosquittoOrAedes, uniqueVehicle, waitFor } from "../sensors/helpers.ts";
import { capturedLogger, daemonConfig, simulatorOn, tearDown, untrainedModel } from "./daemon-helpers.ts";

describe("bin/daemon: recording.topics", function () {
  this.timeout(90_000);
  it("records the sensor topics and decisions its patterns match, and nothing else", async () => {
    const model = await untrainedModel();
    const broker = await mosquittoOrAedes();
    const vehicle = uniqueVehicle("rectopics");
    const dir = mkdtempSync(join(tmpdir(), "fusiond-rectopics-"));
    const config = daemonConfig(vehicle, broker.url, model, { recording: { dir, topics: ["vehicles/+/sensors/radar/#", "vehicles/+/decision"] } });
    const daemon = await startDaemon({ config, logger: capturedLogger().logger });
    const feed = await simulatorOn(broker.url, vehicle, 20);
    try {
      await waitFor(() => daemon.pipeline.metrics().decisions >= 20, "decisions", 40_000);
    } finally {
      await tearDown(feed, daemon, broker);
    }
    try {
      const [file] = readdirSync(dir);
      const rec = await McapRecording.open(await fileSource(join(dir, file!)));
      const topics = new Set<string>();
      for await (const m of rec.messages()) topics.add(m.topic);
      await rec.close();
      assert.deepEqual([...topics].sort(), [`vehicles/${vehicle}/decision`, `vehicles/${vehicle}/sensors/radar/front`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
