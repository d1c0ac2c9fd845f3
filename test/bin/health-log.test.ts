import { strict as assert } from "node:assert";
import { VirtualTimeScheduler } from "rxjs";
import { HealthLogDebouncer } from "../../bin/daemon/health-log.ts";

/** Health transitions in the log, in virtual time: `at` ms → status; the lines logged, with their times. */
function run(events: [number, string, boolean][], holdMs = 1000, until = 10_000): string[] {
  const scheduler = new VirtualTimeScheduler(undefined, until);
  const lines: string[] = [];
  const log = new HealthLogDebouncer({ holdMs, scheduler, log: (topic, ok, f) => lines.push(`${scheduler.now()} ${topic} ${f.unsteady ? "unsteady, now " : ""}${ok ? "healthy" : "unhealthy"} after ${f.changes}`) });
  for (const [at, topic, ok] of events) scheduler.schedule(() => log.update(topic, ok, {}), at);
  scheduler.flush();
  return lines;
}

describe("bin/daemon: health transitions in the log, debounced", () => {
  it("a start that flaps gives one line when the status settles, not a line per change", () => {
    // 18 changes in the first 0.3 s (what the issue saw), then healthy.
    const flaps: [number, string, boolean][] = Array.from({ length: 18 }, (_, i) => [i * 16, "cam", i % 2 === 1]);
    flaps.push([300, "cam", true]);
    assert.deepEqual(run(flaps), ["1272 cam healthy after 18"]); // the last change (at 272 ms) held for 1 s
  });

  it("a real change that holds is logged once, at the end of the hold; each topic on its own", () => {
    assert.deepEqual(
      run([
        [0, "radar", true],
        [0, "gnss", true],
        [5000, "radar", false],
      ]),
      ["1000 radar healthy after 1", "1000 gnss healthy after 1", "6000 radar unhealthy after 1"],
    );
  });

  it("a blip shorter than the hold, back to the logged status, logs nothing", () => {
    assert.deepEqual(
      run([
        [0, "ego", true],
        [3000, "ego", false],
        [3400, "ego", true],
      ]),
      ["1000 ego healthy after 1"],
    );
  });

  it("repeats of the same status do not restart the hold", () => {
    assert.deepEqual(
      run([
        [0, "voice", false],
        [500, "voice", false],
        [900, "voice", false],
      ]),
      ["1000 voice unhealthy after 1"],
    );
  });

  it("a topic that keeps changing without holding gets an unsteady line now and then, not silence", () => {
    // A change every 500 ms for 70 s (hold 1 s: never settles); unsteady lines at most every 30 s.
    const events: [number, string, boolean][] = Array.from({ length: 140 }, (_, i) => [i * 500, "ego", i % 2 === 0]);
    const lines = run(events, 1000, 80_000);
    assert.deepEqual(lines, ["30000 ego unsteady, now healthy after 61", "60000 ego unsteady, now healthy after 60", "70500 ego unhealthy after 19"]);
  });
});
