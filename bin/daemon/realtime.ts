/**
 * Real-time scheduling for the daemon's main thread (`realtime.priority` / `fusiond run --realtime-priority N`).
 *
 * Why: on a loaded machine the main thread — where a frame is received, aligned, featurised, run through the
 * model and decided — waits on the run queue behind other processes (the simulator, the broker, another
 * node's GC threads). Measured here (bench/daemon.bench.ts, 2 cores, simulator beside the daemon): the
 * decisions in the latency tail had spent 4–9 ms runnable but not running; under SCHED_FIFO that wait is 0.
 * Vehicle stacks run their perception/planning loops this way.
 *
 * How: Linux scheduling policy is per thread, and the main thread's id is the process id, so
 * `chrt --fifo --reset-on-fork -p N <pid>` (util-linux, on every Debian/Ubuntu) moves the main thread alone:
 * threads that already exist (libuv's pool, V8's compiler and GC helpers) keep the normal policy, and with
 * SCHED_RESET_ON_FORK neither later threads (workers) nor child processes inherit it, so none can starve the
 * loop. Node has no binding for sched_setscheduler (os.setPriority only sets the nice value, which changed
 * nothing measurable here) and no maintained npm addon does it; one short-lived chrt at start costs nothing.
 * The kernel's RT throttling (sched_rt_runtime_us, 95% by default) still keeps a runaway loop from
 * locking up the machine.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";

export interface RealtimeResult {
  ok: boolean;
  /** What was done, or why not and what to do about it (for the log). */
  detail: string;
}

/** Runs a command, returning its exit status and output (injected in tests). */
export type RunCommand = (cmd: string, args: string[]) => { status: number | null; stdout: string; stderr: string; error?: Error };

const runCommand: RunCommand = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 5000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", ...(r.error ? { error: r.error } : {}) };
};

/** The scheduling policy of a thread (Linux: field 41 of /proc/PID/task/TID/stat; 0 normal, 1 FIFO, 2 RR). */
export function schedulingPolicyOf(pid: number, tid = pid): "normal" | "fifo" | "rr" | "batch" | "idle" | "unknown" {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3.
    const policy = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38]);
    return (["normal", "fifo", "rr", "batch", "unknown", "idle"] as const)[policy] ?? "unknown";
  } catch {
    return "unknown";
  }
}

const HOW_TO =
  "the daemon needs CAP_SYS_NICE (root, or systemd's AmbientCapabilities=CAP_SYS_NICE, or LimitRTPRIO= at or above the priority) and chrt from util-linux; it goes on at normal priority";

/** Moves the thread `pid` (default: this process's main thread) to SCHED_FIFO at `priority` (1–99). Never throws. */
export function setRealtimePriority(priority: number, options: { pid?: number; platform?: NodeJS.Platform; run?: RunCommand } = {}): RealtimeResult {
  const pid = options.pid ?? process.pid;
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) return { ok: false, detail: `real-time priority must be an integer 1–99, got ${priority}` };
  if ((options.platform ?? process.platform) !== "linux") return { ok: false, detail: `real-time priority is set with Linux's chrt; on ${options.platform ?? process.platform} the daemon runs at normal priority` };
  const r = (options.run ?? runCommand)("chrt", ["--fifo", "--reset-on-fork", "-p", String(priority), String(pid)]);
  if (r.error) return { ok: false, detail: `could not run chrt (${r.error.message}): ${HOW_TO}` };
  if (r.status !== 0) return { ok: false, detail: `chrt --fifo --reset-on-fork -p ${priority} ${pid} failed (${(r.stderr || r.stdout).trim() || `exit ${r.status}`}): ${HOW_TO}` };
  return { ok: true, detail: `main thread (${pid}) runs SCHED_FIFO at priority ${priority}` };
}

/** config.realtime: SCHED_FIFO at its priority; what /readyz reports ("off", "fifo N", "failed"). */
export function realtimePriority(config: DaemonConfig, logger: Logger): string {
  if (!config.realtime) return "off";
  const rt = setRealtimePriority(config.realtime.priority);
  if (rt.ok) logger.info({ priority: config.realtime.priority }, rt.detail);
  else logger.warn({ priority: config.realtime.priority }, rt.detail);
  return rt.ok ? `fifo ${config.realtime.priority}` : "failed";
}
