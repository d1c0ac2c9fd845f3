/**
 * The coordinator as the commands use it: open the queue, record the run, follow it with a progress line,
 * merge, mark the run's state. `fusiond eval|replay ... --redis` and `fusiond fleet resume` share it.
 */
import type { EvalReport } from "../../eval/score/report.ts";
import { runEvalOnFleet, runReplayOnFleet, saveRun, setRunState, type ReplayOutcome, type RunManifest } from "../../eval/fleet/run.ts";
import { JobTracker, progressText, type FleetProgress } from "../../eval/fleet/tracker.ts";

export interface FleetCliOptions {
  redis: string;
  prefix: string;
  quiet: boolean;
  log: (s: string) => void;
  /** Poll period, ms (tests). */
  pollMs?: number;
}

async function withRun<T>(m: RunManifest, o: FleetCliOptions, run: (t: JobTracker) => Promise<T>, failed: (v: T) => boolean): Promise<T | undefined> {
  const t = await JobTracker.open({ redis: o.redis, prefix: o.prefix, attempts: m.attempts, backoffMs: 1000, ...(o.pollMs ? { pollMs: o.pollMs } : {}) });
  const progress = fleetProgress(!o.quiet, Boolean(process.stderr.isTTY));
  try {
    await saveRun(t, o.prefix, m);
    t.runId = m.id;
    o.log(`fleet run ${m.id}: ${m.kind} submitted to ${o.redis} (prefix ${o.prefix}); if this process stops, \`fusiond fleet resume ${m.id} --redis ${o.redis}${o.prefix === "fusiond" ? "" : ` --prefix ${o.prefix}`}\` picks it up`);
    t.onPoll = (p) => progress.update(p);
    t.isCancelled = async () => ((await t.redis.send("HGET", [`${o.prefix}:fleet:run:${m.id}`, "state"])) as string | null) === "cancelled";
    let value: T;
    try {
      value = await run(t);
    } catch (err) {
      progress.end();
      const cancelled = (err as { code?: string }).code === "run_cancelled";
      if (!cancelled) await setRunState(t, o.prefix, m.id, "failed").catch(() => undefined);
      o.log((err as Error).message);
      process.exitCode = 1;
      return undefined;
    }
    progress.end();
    const p = t.progress();
    o.log(`fleet run ${m.id}: ${p.done} done (${p.reused} re-used), ${p.failed} failed in ${p.elapsedS.toFixed(1)} s`);
    await setRunState(t, o.prefix, m.id, failed(value) ? "failed" : "done");
    return value;
  } finally {
    await t.close();
  }
}

export const fleetEval = (m: RunManifest, o: FleetCliOptions): Promise<EvalReport | undefined> =>
  withRun(m, o, (t) => runEvalOnFleet(t, m, o.log), (r) => Boolean(r.failures?.length));

export const fleetReplay = (m: RunManifest, o: FleetCliOptions): Promise<ReplayOutcome[] | undefined> =>
  withRun(m, o, (t) => runReplayOnFleet(t, m), (r) => r.some((x) => !x.ok));

/** Progress on stderr: redrawn on a terminal, else one line every `everyS` seconds. */
export function fleetProgress(enabled: boolean, tty: boolean, everyS = 5): { update: (p: FleetProgress) => void; end: () => void } {
  let last = -Infinity;
  let drawn = false;
  return {
    update(p) {
      if (!enabled) return;
      const now = performance.now();
      if (tty) {
        process.stderr.write(`\r\x1b[2K${progressText(p)}`);
        drawn = true;
      } else if (now - last >= everyS * 1000) {
        last = now;
        process.stderr.write(`${progressText(p)}\n`);
      }
    },
    end() {
      if (drawn) process.stderr.write("\n");
      drawn = false;
    },
  };
}
