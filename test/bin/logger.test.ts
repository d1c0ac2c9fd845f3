import { strict as assert } from "node:assert";
import { PassThrough } from "node:stream";
import { createLogger, resolveLogFormat } from "../../bin/daemon/logger.ts";

/** A stream that collects what is written, and says whether it is a terminal. */
function sink(isTTY: boolean): PassThrough & { isTTY: boolean; text: () => string } {
  const s = new PassThrough() as PassThrough & { isTTY: boolean; text: () => string };
  let out = "";
  s.on("data", (b: Buffer) => (out += b.toString()));
  s.isTTY = isTTY;
  s.text = () => out;
  return s;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("bin/daemon: run's log format", () => {
  it("auto: readable lines on a terminal, JSON lines otherwise", () => {
    assert.equal(resolveLogFormat("auto", true), "pretty");
    assert.equal(resolveLogFormat("auto", false), "json");
    assert.equal(resolveLogFormat("json", true), "json");
    assert.equal(resolveLogFormat("pretty", false), "pretty");
  });

  it("json writes one JSON object per event", async () => {
    const out = sink(false);
    createLogger({ level: "info", base: { vehicle: "ego1" }, format: "auto", stream: out }).info({ topic: "t" }, "sensor healthy");
    await tick();
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    assert.equal(line["msg"], "sensor healthy");
    assert.equal(line["vehicle"], "ego1");
  });

  it("pretty writes a line a person reads: time, level, message, fields", async () => {
    const out = sink(false);
    createLogger({ level: "info", base: { vehicle: "ego1" }, format: "pretty", stream: out }).warn({ topic: "vehicles/ego1/ego", rateHz: 33.5 }, "sensor unhealthy");
    await tick();
    const text = out.text();
    assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: sensor unhealthy/);
    assert.match(text, /topic: "vehicles\/ego1\/ego"/);
    assert.doesNotMatch(text, /^\{/);
  });
});
