/**
 * bin/daemon/shutdown.ts: the stop runs under shutdownTimeoutS — a part that never closes does not hold it, it
 * gives up on the rest after the budget and says so; a stop that closes in time says nothing of the kind.
 */
import assert from "node:assert/strict";
import type { DrivingDecision } from "../../fusion/index.ts";
import type { Pipeline } from "../../pipeline/index.ts";
import { shutDown, type ShutdownParts } from "../../bin/daemon/shutdown.ts";
import { capturedLogger } from "./daemon-helpers.ts";

function parts(cleanup: () => Promise<void> | void, timeoutMs: number): { p: ShutdownParts; lines: Record<string, unknown>[]; stopped: () => boolean } {
  const { logger, lines } = capturedLogger();
  let stopped = false;
  const pipeline = { stop: () => void (stopped = true), metrics: () => ({ messagesIn: 3, decisions: 2 }) } as unknown as Pipeline<DrivingDecision>;
  const p: ShutdownParts = {
    pipeline,
    healthLog: { close: () => undefined } as unknown as ShutdownParts["healthLog"],
    inputs: { sources: [], outSinks: [] } as unknown as ShutdownParts["inputs"],
    recorder: undefined,
    cleanups: [cleanup],
    http: undefined,
    logger,
    timeoutMs,
  };
  return { p, lines, stopped: () => stopped };
}

describe("bin/daemon/shutdown: the stop's time budget", () => {
  it("gives up on a part that never closes after timeoutMs, and logs it", async () => {
    const { p, lines, stopped } = parts(() => new Promise<void>(() => undefined), 30);
    const t0 = performance.now();
    await shutDown(p);
    const took = performance.now() - t0;
    assert.ok(took >= 25 && took < 5_000, `took ${took} ms`);
    assert.ok(stopped(), "intake stopped first");
    const msgs = lines.map((l) => l["msg"]);
    assert.deepEqual(msgs, ["shutting down", "shutdown took too long; giving up on the rest", "stopped"]);
    assert.equal(lines[0]!["timeoutMs"], 30);
  });

  it("a stop that closes in time does not say it took too long", async () => {
    let closed = false;
    const { p, lines } = parts(() => void (closed = true), 10_000);
    await shutDown(p);
    assert.ok(closed);
    assert.deepEqual(lines.map((l) => l["msg"]), ["shutting down", "stopped"]);
  });
});
