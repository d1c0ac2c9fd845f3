/**
 * `fusiond worker --redis URL`: a fleet worker. Takes evaluation and replay jobs from the fleet queue
 * (submitted by `fusiond eval ... --redis URL` and `fusiond replay FILES... --redis URL`), runs them with
 * the code the single-process commands use, serves /metrics /healthz /readyz. SIGTERM/SIGINT: stop taking
 * jobs, finish the running ones within --grace, hand the rest back. docs/fleet.md has the deployment.
 */
import type { Command } from "commander";
import { BACKEND_CHOICES, type BackendChoice } from "../../fusion/index.ts";
import { FleetWorker } from "../../eval/fleet/worker.ts";
import { hostPort, startHttpEndpoints } from "../daemon/http.ts";
import { DEFAULT_PREFIX } from "../../eval/fleet/jobs.ts";
import { EXIT_USAGE } from "./types.ts";

interface WorkerFlags {
  redis: string;
  concurrency: string;
  prefix: string;
  backend: string;
  name?: string;
  http: string;
  grace: string;
  lockDuration?: string;
  stalledInterval?: string;
}

export default function register(program: Command): void {
  program
    .command("worker")
    .description("fleet worker: take eval and replay jobs from Redis (BullMQ) and run them")
    .requiredOption("--redis <url>", "Redis of the fleet, e.g. redis://10.0.0.5:6379")
    .option("--concurrency <n>", "jobs at once in this process: they overlap their waits and share a model's batches, but a process runs its JavaScript on one core — start one worker per core", "1")
    .option("--prefix <name>", "key prefix of the fleet's queue in Redis (one per installation)", DEFAULT_PREFIX)
    .option("--backend <b>", `TF.js backend: ${BACKEND_CHOICES.join(", ")}`, "auto")
    .option("--name <name>", "worker name in progress lines and job records (default host-pid)")
    .option("--http <host:port>", "listen address for /metrics /healthz /readyz, or off", "127.0.0.1:9465")
    .option("--grace <s>", "on SIGTERM: seconds running jobs get to finish before they are handed back", "30")
    .option("--lock-duration <ms>", "job lock, ms: a worker silent this long is taken for dead and its jobs run elsewhere (default 30000)")
    .option("--stalled-interval <ms>", "how often this worker looks for jobs of dead workers, ms (default 30000)")
    .addHelpText(
      "after",
      `
Recordings and models are read at the paths the jobs name (shared storage mounted at the same place on
every machine); a worker whose model files do not match the job's model hash refuses the job and says why.
One worker process uses about one core: on an N-core machine start N of them (docs/fleet.md has a systemd
template unit). A fresh worker runs its first few minutes of jobs slower, while V8 compiles the hot code.

Examples:
  fusiond worker --redis redis://10.0.0.5:6379 --http 0.0.0.0:9465
  fusiond worker --redis redis://10.0.0.5:6379 --http 0.0.0.0:9466 --name "$(hostname)-2"
  fusiond eval --model models/default --closed-loop --suite test --redis redis://10.0.0.5:6379`,
    )
    .action(async (flags: WorkerFlags) => {
      const fail = (msg: string): void => {
        process.stderr.write(`fusiond worker: ${msg}\n`);
        process.exitCode = EXIT_USAGE;
      };
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) return fail(`--concurrency must be an integer ≥ 1, not "${flags.concurrency}"`);
      if (!BACKEND_CHOICES.includes(flags.backend as BackendChoice)) return fail(`--backend must be one of ${BACKEND_CHOICES.join(", ")}`);
      const grace = Number(flags.grace);
      if (!Number.isFinite(grace) || grace < 0) return fail(`--grace must be seconds ≥ 0, not "${flags.grace}"`);
      const ms = (s: string | undefined, name: string): number | undefined | null => {
        if (s === undefined) return undefined;
        const n = Number(s);
        if (!Number.isInteger(n) || n < 100) {
          fail(`${name} must be milliseconds ≥ 100, not "${s}"`);
          return null;
        }
        return n;
      };
      const lock = ms(flags.lockDuration, "--lock-duration");
      const stalled = ms(flags.stalledInterval, "--stalled-interval");
      if (lock === null || stalled === null) return;
      if (flags.http !== "off" && !/^.+:\d+$/.test(flags.http)) return fail(`--http takes host:port or off, not "${flags.http}"`);
      const log = (s: string): void => void process.stderr.write(`fusiond worker: ${s}\n`);
      const worker = await FleetWorker.start({
        redis: flags.redis,
        prefix: flags.prefix,
        concurrency,
        backend: flags.backend as BackendChoice,
        ...(flags.name ? { name: flags.name } : {}),
        ...(flags.http !== "off" ? { serve: (p) => startHttpEndpoints({ ...hostPort(flags.http), ...p }) } : {}),
        ...(lock ? { lockDurationMs: lock } : {}),
        ...(stalled ? { stalledIntervalMs: stalled } : {}),
        log,
      });
      log(`${worker.name}: taking jobs from ${flags.redis} (prefix ${flags.prefix}, concurrency ${concurrency})${worker.url ? `; metrics at ${worker.url}/metrics` : ""}`);
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: string): void => {
          signals++;
          if (signals > 1) {
            log(`${sig} again: handing back at once`);
            void worker.stop(0).then(resolve);
            return;
          }
          log(`${sig}: finishing running jobs (up to ${grace} s), then handing back the rest`);
          void worker.stop(grace * 1000).then(resolve);
        };
        process.on("SIGTERM", () => onSignal("SIGTERM"));
        process.on("SIGINT", () => onSignal("SIGINT"));
      });
      log("stopped");
      process.exit(process.exitCode ?? 0);
    });
}
