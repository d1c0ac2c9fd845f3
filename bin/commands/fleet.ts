/**
 * `fusiond fleet status|resume|cancel [RUN] --redis URL`: look at, pick up, or stop a fleet run submitted by
 * `fusiond eval|replay ... --redis` — from any machine that reaches the Redis.
 */
import type { Command } from "commander";
import { fleetEval, fleetReplay } from "../fleet/cli.ts";
import { DEFAULT_PREFIX, unitName, type JobData } from "../../eval/fleet/jobs.ts";
import { listRuns, loadRun, setRunState } from "../../eval/fleet/run.ts";
import { JobTracker, runJobsKey } from "../../eval/fleet/tracker.ts";
import { writeEvalOutputs } from "./eval-output.ts";
import { writeReplayOutputs } from "./replay-output.ts";
import { EXIT_USAGE } from "./types.ts";

interface FleetFlags {
  redis: string;
  prefix: string;
  json?: boolean;
  quiet?: boolean;
  retryFailed?: boolean;
}

const log = (s: string): void => void process.stderr.write(`fusiond fleet: ${s}\n`);

/** The jobs of a run, by state, read from the queue (a one-off look: one state query per job). */
async function jobStates(t: JobTracker, ids: readonly string[]): Promise<Record<string, string[]>> {
  const by: Record<string, string[]> = {};
  for (const id of ids) {
    const s = await t.queue.getJobState(id);
    (by[s] ??= []).push(id);
  }
  return by;
}

/** The jobs a run submitted, with their data (a job removed since — cancelled — is left out). */
async function runJobs(t: JobTracker, prefix: string, id: string): Promise<{ ids: string[]; data: Map<string, JobData> }> {
  const all = (await t.redis.send("SMEMBERS", [runJobsKey(prefix, id)])) as string[];
  const data = new Map<string, JobData>();
  for (const jid of all) {
    const job = await t.queue.getJob(jid);
    if (job) data.set(jid, job.data as JobData);
  }
  return { ids: [...data.keys()], data };
}

export default function register(program: Command): void {
  const fleet = program
    .command("fleet")
    .description("fleet runs on Redis: status, resume, cancel (docs/fleet.md)")
    .addHelpText(
      "after",
      `
Examples:
  fusiond fleet status --redis redis://127.0.0.1:6379                 # the runs
  fusiond fleet status RUN --redis redis://127.0.0.1:6379             # one run's jobs by state and worker
  fusiond fleet resume RUN --redis redis://127.0.0.1:6379             # after the coordinator stopped
  fusiond fleet cancel RUN --redis redis://127.0.0.1:6379`,
    );
  const common = (c: Command): Command =>
    c.requiredOption("--redis <url>", "Redis of the fleet, e.g. redis://10.0.0.5:6379").option("--prefix <name>", "the fleet's key prefix", DEFAULT_PREFIX);
  const open = (f: FleetFlags): Promise<JobTracker> => JobTracker.open({ redis: f.redis, prefix: f.prefix, attempts: 3, backoffMs: 1000 });

  common(fleet.command("status").argument("[run]", "run id (default: list the runs)").option("--json", "machine-readable"))
    .description("a run's jobs by state and where they run; without RUN, the runs")
    .action(async (run: string | undefined, f: FleetFlags) => {
      const t = await open(f);
      try {
        if (!run) {
          const runs = [];
          for (const id of await listRuns(t, f.prefix)) {
            const { manifest, state } = await loadRun(t, f.prefix, id);
            runs.push({ id, kind: manifest.kind, state, created: manifest.created });
          }
          process.stdout.write(f.json ? JSON.stringify(runs, null, 2) + "\n" : runs.map((r) => `${r.id}  ${r.kind.padEnd(6)} ${r.state.padEnd(9)} ${r.created}`).join("\n") + (runs.length ? "\n" : "no runs\n"));
          return;
        }
        const { manifest, state } = await loadRun(t, f.prefix, run);
        const { ids, data } = await runJobs(t, f.prefix, run);
        const by = await jobStates(t, ids);
        const active = (await t.queue.getJobs(["active"])).filter((j) => j.id && data.has(j.id));
        const failed = await Promise.all((by["failed"] ?? []).map(async (id) => ({ unit: unitName(data.get(id)!), reason: (await t.queue.getJob(id))?.failedReason ?? "" })));
        const counts = Object.fromEntries(Object.entries(by).map(([k, v]) => [k, v.length]));
        const out = { id: run, kind: manifest.kind, state, created: manifest.created, jobs: ids.length, byState: counts, running: active.map((j) => ({ unit: unitName(j.data as JobData), worker: j.processedBy ?? "?" })), failed };
        if (f.json) process.stdout.write(JSON.stringify(out, null, 2) + "\n");
        else {
          process.stdout.write(`run ${run} (${manifest.kind}, ${state}, created ${manifest.created}): ${ids.length} jobs: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")}\n`);
          for (const r of out.running) process.stdout.write(`  running  ${r.unit} on ${r.worker}\n`);
          for (const x of failed) process.stdout.write(`  failed   ${x.unit}: ${x.reason}\n`);
        }
      } finally {
        await t.close();
      }
    });

  common(fleet.command("resume").argument("<run>", "run id").option("--quiet", "no progress").option("--retry-failed", "try failed jobs again (e.g. after fixing a worker's model files)"))
    .description("pick up a run whose coordinator stopped: re-submit what is missing, wait, merge, write its outputs")
    .action(async (run: string, f: FleetFlags) => {
      const t = await open(f);
      let manifest;
      try {
        manifest = (await loadRun(t, f.prefix, run)).manifest;
        if (f.retryFailed) {
          const { ids } = await runJobs(t, f.prefix, run);
          for (const id of ids) {
            const job = await t.queue.getJob(id);
            if (job && (await job.isFailed())) await job.retry("failed");
          }
        }
      } finally {
        await t.close();
      }
      const o = { redis: f.redis, prefix: f.prefix, quiet: Boolean(f.quiet), log };
      if (manifest.kind === "eval") {
        const report = await fleetEval(manifest, o);
        if (report) await writeEvalOutputs(report, manifest.outputs, log);
      } else {
        const outcomes = await fleetReplay(manifest, o);
        if (outcomes) await writeReplayOutputs(outcomes, { ...manifest.outputs, quiet: Boolean(f.quiet) });
      }
    });

  common(fleet.command("cancel").argument("<run>", "run id"))
    .description("stop a run: its waiting jobs are removed (running ones finish; their results stay for re-use)")
    .action(async (run: string, f: FleetFlags) => {
      const t = await open(f);
      try {
        await loadRun(t, f.prefix, run);
        await setRunState(t, f.prefix, run, "cancelled");
        const { ids } = await runJobs(t, f.prefix, run);
        let removed = 0;
        for (const id of ids) {
          const s = await t.queue.getJobState(id);
          if (s === "waiting" || s === "delayed" || s === "prioritized") {
            await t.queue.remove(id);
            removed++;
          }
        }
        log(`run ${run} cancelled: ${removed} waiting job(s) removed`);
      } catch (err) {
        log((err as Error).message);
        process.exitCode = EXIT_USAGE;
      } finally {
        await t.close();
      }
    });
}
