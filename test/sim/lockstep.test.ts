import assert from "node:assert/strict";
import { nsToTimestamp } from "../../schemas/time.ts";
import { Episode, type SimMessage } from "../../sim/episode.ts";
import { DecisionMailbox, runLockstep, type LockstepPort, type Timers } from "../../sim/lockstep.ts";

const realTimers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

/** An in-memory port with a stub decider: it answers each SimStep with the truth's expert label. */
function stubPort(skip: (step: number) => boolean = () => false): { port: LockstepPort; published: SimMessage[]; mailbox: DecisionMailbox } {
  const mailbox = new DecisionMailbox(realTimers, "stamp");
  const published: SimMessage[] = [];
  let lastTruth: SimMessage<"sim_truth"> | undefined;
  const port: LockstepPort = {
    async publish(m) {
      published.push(m);
      if (m.kind === "sim_truth") lastTruth = m;
      if (m.kind === "sim_step" && !m.message.done && !skip(m.message.step as number)) {
        const truth = lastTruth!;
        setImmediate(() =>
          mailbox.offer({ action: truth.message.expert_action as string, target_speed_mps: truth.message.expert_target_speed_mps as number, frame_stamp: nsToTimestamp(m.stampNs) }),
        );
      }
    },
    awaitDecision: (ref, timeoutMs) => mailbox.take(ref, timeoutMs),
  };
  return { port, published, mailbox };
}

describe("sim lockstep", function () {
  this.timeout(60_000);

  it("completes an episode with a stub decider, no lost or duplicated steps", async () => {
    const ep = new Episode({ name: "lockstep", seed: 51, durationS: 20, weather: ["rain"], events: ["cut_in", "voice"] }, { sensors: ["radar", "ego", "gnss"] });
    const { port, published, mailbox } = stubPort();
    const r = await runLockstep(ep, port, { timeoutMs: 2000 });
    assert.equal(r.aborted, false);
    assert.equal(r.timeouts, 0);
    const steps = published.filter((m) => m.kind === "sim_step").map((m) => Number(m.message.step));
    assert.deepEqual(steps, steps.map((_, i) => i), "steps 0..N once each, in order");
    assert.equal(steps.length, 20 / 0.05 + 1);
    assert.equal(r.decisions, steps.length - 1, "one decision per step before the last");
    assert.equal(mailbox.stale, 0);
    assert.equal(published.filter((m) => m.kind === "sim_step").at(-1)!.message.done, true);
    assert.equal(r.score.collisions, 0);
  });

  it("applies the timeout policy and drops late decisions as stale", async () => {
    const ep = new Episode({ name: "lockstep-timeouts", seed: 52, durationS: 3, weather: ["clear"], events: [] }, { sensors: ["ego"] });
    const { port, published } = stubPort((step) => step % 10 === 3);
    const r = await runLockstep(ep, port, { timeoutMs: 30, onTimeout: "hold" });
    assert.equal(r.timeouts, 6);
    assert.equal(r.decisions + r.timeouts, published.filter((m) => m.kind === "sim_step").length - 1);
    const aborted = await runLockstep(
      new Episode({ name: "lockstep-abort", seed: 53, durationS: 3, weather: ["clear"], events: [] }, { sensors: ["ego"] }),
      stubPort(() => true).port,
      { timeoutMs: 10, onTimeout: "stop", maxConsecutiveTimeouts: 3 },
    );
    assert.equal(aborted.aborted, true);
    assert.equal(aborted.timeouts, 3);
  });

  it("the mailbox matches by frame stamp and keeps early answers", async () => {
    const mb = new DecisionMailbox(realTimers, "stamp");
    mb.offer({ action: "STOP", frame_stamp: nsToTimestamp(200n) }); // early, for a later step
    mb.offer({ action: "KEEP", frame_stamp: nsToTimestamp(50n) });
    const first = await mb.take({ step: 1, stampNs: 100n }, 20);
    assert.equal(first, undefined);
    assert.equal(mb.stale, 1);
    const second = await mb.take({ step: 2, stampNs: 200n }, 20);
    assert.equal(second?.action, "STOP");
  });
});
