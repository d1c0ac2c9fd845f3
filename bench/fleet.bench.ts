/**
 * `npm run bench -- fleet`: what the fleet costs and gives, on a short closed-loop suite.
 *  - overhead per job: one worker process (concurrency 1) running N episodes, end to end from submission
 *    to the last result, against the same episodes run one after another in this process
 *    (runEpisodeInProcess, the code the worker runs);
 *  - two workers against one on the same N episodes (fresh seeds, so nothing is re-used; every worker warmed
 *    up first), with CPU accounting from /proc: each worker's CPU seconds on its main thread and its other
 *    threads, the machine's busy cores and how many of them other processes used — the machine is shared,
 *    so the wall-time ratio alone says little — and what the accounting gives on 2 free cores;
 *  - Redis: bytes kept and commands sent per job (INFO memory / INFO commandstats on a redis-server of our
 *    own, so nobody else's keys or commands count), coordinator polling included.
 * Env: FUSIOND_BENCH_FLEET_EPISODES (default 6), FUSIOND_BENCH_FLEET_S (episode length, s, default 6),
 * FUSIOND_BENCH_FLEET_BACKEND (the workers' and jobs' backend, default auto), FUSIOND_BENCH_FLEET_WARMUP
 * (warm-up episodes per process before anything is timed, default 6: V8 needs about that many to settle).
 * Needs redis-server (Debian's) on PATH.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scenariosForSeeds, withDuration } from "../eval/run/scenarios.ts";
import { runEpisodeInProcess } from "../eval/run/closed-loop.ts";
import { loadEvalModel, unusedModalities } from "../eval/run/decider.ts";
import { modelMeta } from "../eval/fleet/identity.ts";
import { RedisCommands } from "../eval/fleet/redis.ts";
import { JobTracker } from "../eval/fleet/tracker.ts";
import type { ClosedLoopJob } from "../eval/fleet/jobs.ts";
import { FUSIOND_VERSION } from "../bin/version.ts";
import type { ScenarioSpec } from "../sim/scenario.ts";
import type { BenchRow, BenchSuite } from "./harness.ts";
import { cpuDelta, machineCpu, threadCpu, type ThreadCpu } from "./proc-cpu.ts";

const EPISODES = Number(process.env["FUSIOND_BENCH_FLEET_EPISODES"] ?? 6);
const EPISODE_S = Number(process.env["FUSIOND_BENCH_FLEET_S"] ?? 6);
/** Warm-up episodes per worker before a timed batch (and in process before the in-process run). */
const WARMUP = Math.max(1, Number(process.env["FUSIOND_BENCH_FLEET_WARMUP"] ?? 6));
const BIN = new URL("../bin/fusiond.js", import.meta.url).pathname;
const MODEL = "models/default";

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

async function startWorker(url: string, prefix: string, name: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, [BIN, "worker", "--redis", url, "--prefix", prefix, "--name", name, "--http", "off", "--backend", process.env["FUSIOND_BENCH_FLEET_BACKEND"] ?? "auto"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  while (!err.includes("taking jobs")) {
    if (p.exitCode !== null) throw new Error(`worker exited: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return p;
}

const stop = async (ps: ChildProcess[]): Promise<void> => {
  await Promise.all(ps.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : (p.once("exit", r), p.kill("SIGTERM"))))));
};

async function info(c: RedisCommands, section: string): Promise<Map<string, string>> {
  const text = (await c.send("INFO", [section])) as string;
  return new Map(text.split("\r\n").filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]));
}

interface Batch {
  wallS: number;
  jobMs: number[];
  /** CPU each worker used during the batch (undefined without /proc). */
  workersCpu: Array<ThreadCpu | undefined>;
  coordinatorS: number;
  /** The machine's busy cores and all cores over the batch, averaged (everyone's processes). */
  machine: { busyCores: number; cores: number } | undefined;
}

const known = (b: Batch): ThreadCpu[] | undefined => (b.workersCpu.every((c) => c) ? (b.workersCpu as ThreadCpu[]) : undefined);
const sumS = (cs: ThreadCpu[]): number => cs.reduce((a, c) => a + c.mainS + c.otherS, 0);
const cpuPerEpisode = (b: Batch): number | undefined => {
  const cs = known(b);
  return cs ? sumS(cs) / EPISODES : undefined;
};
const mainShare = (b: Batch): string => {
  const cs = known(b);
  return cs ? `${((cs.reduce((a, c) => a + c.mainS, 0) / sumS(cs)) * 100).toFixed(0)}%` : "?";
};
const coresText = (b: Batch): string => {
  const cs = known(b);
  return cs ? `${(sumS(cs) / b.wallS).toFixed(2)}` : "?";
};

/** Per worker: CPU s (main thread + other threads) and its share of the wall time; the machine's load. */
function cpuText(b: Batch): string {
  const ws = b.workersCpu.map((c, i) => (c ? `w${i + 1} ${(c.mainS + c.otherS).toFixed(2)} s (main ${c.mainS.toFixed(2)} + other threads ${c.otherS.toFixed(2)}) = ${(((c.mainS + c.otherS) / b.wallS) * 100).toFixed(0)}% of a core` : `w${i + 1} ?`));
  const cs = known(b);
  const ours = cs ? sumS(cs) / b.wallS : 0;
  const m = b.machine ? `; machine busy ${b.machine.busyCores.toFixed(2)} of ${b.machine.cores.toFixed(2)} cores, ${Math.max(0, b.machine.busyCores - ours - b.coordinatorS / b.wallS).toFixed(2)} of them other processes` : "";
  return `${ws.join(", ")}; ${cs ? `${(sumS(cs) / EPISODES).toFixed(3)} CPU s per episode` : ""}; coordinator ${b.coordinatorS.toFixed(2)} s${m}`;
}

/**
 * What the same two runs give on 2 free cores: one worker's episodes are bounded by its main thread (its
 * other threads run beside it on the second core), two workers' by all their CPU over two cores.
 */
function freeCoresBound(one: Batch, two: Batch): number | undefined {
  const a = known(one);
  const total2 = cpuPerEpisode(two);
  if (!a || total2 === undefined) return undefined;
  return (2 * (a.reduce((x, c) => x + c.mainS, 0) / EPISODES)) / total2;
}

const suite: BenchSuite = {
  name: "fleet",
  description: `fleet on BullMQ/Redis: overhead per job vs in process, 2 workers vs 1, Redis bytes and commands per job (${EPISODES} closed-loop episodes × ${EPISODE_S} s, ${MODEL})`,
  async run(log) {
    if (spawnSync("redis-server", ["--version"]).status !== 0) throw new Error("redis-server is not installed (apt-get install -y redis-server)");
    if (!existsSync(join(MODEL, "model.json"))) throw new Error(`${MODEL} is missing`);
    const dir = mkdtempSync(join(tmpdir(), "fusiond-bench-fleet-"));
    const port = await freePort();
    const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", "", "--maxmemory-policy", "noeviction"], { stdio: "ignore" });
    const url = `redis://127.0.0.1:${port}`;
    const workers: ChildProcess[] = [];
    try {
      const c = new RedisCommands(url);
      for (let i = 0; ; i++) {
        try {
          await c.connect();
          break;
        } catch (err) {
          if (i > 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const ref = modelMeta(MODEL).ref;
      const episodes = (from: number): ScenarioSpec[] => withDuration(scenariosForSeeds(Array.from({ length: EPISODES }, (_, i) => from + i)), EPISODE_S);
      const jobOf = (spec: ScenarioSpec, mask: ClosedLoopJob["mask"]): ClosedLoopJob => ({ kind: "closed-loop", version: FUSIOND_VERSION, backend: (process.env["FUSIOND_BENCH_FLEET_BACKEND"] ?? "auto") as ClosedLoopJob["backend"], model: ref, spec, mask });

      // In process: the worker's code, one episode after another, after the warm-up episodes.
      const model = await loadEvalModel(MODEL);
      const mask = unusedModalities(model.spec);
      let inProcessS = 0;
      let inProcessCpu: ThreadCpu | undefined;
      try {
        // A fresh process is slow, and busy on other threads, until V8 has compiled the hot code: shown here.
        const warm: string[] = [];
        for (let k = 0; k < WARMUP; k++) {
          const a = threadCpu(process.pid);
          await runEpisodeInProcess(withDuration(scenariosForSeeds([5000 + k]), EPISODE_S)[0]!, model, { mask });
          const b = threadCpu(process.pid);
          if (a && b) warm.push(`${(b.mainS - a.mainS).toFixed(2)}+${(b.otherS - a.otherS).toFixed(2)}`);
        }
        if (warm.length) log(`in process, warm-up episodes, CPU s on the main thread + other threads: ${warm.join(", ")}`);
        const cpu0 = threadCpu(process.pid);
        const t = performance.now();
        for (const spec of episodes(9100)) await runEpisodeInProcess(spec, model, { mask });
        inProcessS = (performance.now() - t) / 1000;
        const cpu1 = threadCpu(process.pid);
        inProcessCpu = cpu0 && cpu1 ? cpuDelta(cpu0, cpu1) : undefined;
      } finally {
        model.close();
      }
      log(`in process: ${EPISODES} episodes in ${inProcessS.toFixed(2)} s (${((inProcessS / EPISODES) * 1000).toFixed(0)} ms each, backend ${model.info.backend})${inProcessCpu ? `; CPU ${(inProcessCpu.mainS + inProcessCpu.otherS).toFixed(2)} s (main ${inProcessCpu.mainS.toFixed(2)} + other threads ${inProcessCpu.otherS.toFixed(2)}) = ${(((inProcessCpu.mainS + inProcessCpu.otherS) / inProcessS) * 100).toFixed(0)}% of a core` : ""}`);

      /** One batch on the given workers (each warmed up first: model loaded, code compiled), with CPU accounting. */
      const batch = async (prefix: string, on: ChildProcess[], specs: ScenarioSpec[], afterWarmUp?: () => Promise<void>): Promise<Batch> => {
        const t = await JobTracker.open({ redis: url, prefix, attempts: 1, backoffMs: 1000, pollMs: 500 });
        try {
          // Warm-up until every worker ran WARMUP episodes (BullMQ may give two warm-up jobs to one worker): a
          // fresh process spends its first episodes compiling (V8's JIT, on extra threads), see docs/fleet.md.
          const warm = new Map<string, number>();
          for (let k = 0; on.length > warm.size || [...warm.values()].some((n) => n < WARMUP); k++) {
            if (k > 4 * WARMUP + 10) throw new Error(`the workers did not all take ${WARMUP} warm-up jobs: ${JSON.stringify(Object.fromEntries(warm))}`);
            const outs = await Promise.all(on.map((_, i) => t.submit(jobOf(withDuration(scenariosForSeeds([5000 + k * on.length + i]), EPISODE_S)[0]!, mask))));
            for (const o of outs) if (o.ok) warm.set(o.ret.worker, (warm.get(o.ret.worker) ?? 0) + 1);
          }
          await afterWarmUp?.();
          const cpu0 = on.map((w) => threadCpu(w.pid!));
          const m0 = machineCpu();
          const me0 = process.cpuUsage();
          const t0 = performance.now();
          const outs = await Promise.all(specs.map((s) => t.submit(jobOf(s, mask))));
          const wallS = (performance.now() - t0) / 1000;
          const me = process.cpuUsage(me0);
          const m1 = machineCpu();
          const workersCpu = on.map((w, i) => {
            const a = cpu0[i];
            const b = threadCpu(w.pid!);
            return a && b ? cpuDelta(a, b) : undefined;
          });
          const bad = outs.find((o) => !o.ok);
          if (bad && !bad.ok) throw new Error(`a bench job failed: ${bad.reason}`);
          return {
            wallS,
            jobMs: outs.map((o) => (o.ok ? o.ret.ms : 0)),
            workersCpu,
            coordinatorS: (me.user + me.system) / 1e6,
            machine: m0 && m1 ? { busyCores: (m1.busyS - m0.busyS) / wallS, cores: (m1.totalS - m0.totalS) / wallS } : undefined,
          };
        } finally {
          await t.close();
        }
      };

      // One worker: overhead per job, and Redis cost per job.
      workers.push(await startWorker(url, "one", "w1"));
      let mem0 = 0;
      const one = await batch("one", workers, episodes(9100), async () => {
        await c.send("CONFIG", ["RESETSTAT"]);
        mem0 = Number((await info(c, "memory")).get("used_memory"));
      });
      const mem1 = Number((await info(c, "memory")).get("used_memory"));
      const stats = await info(c, "commandstats");
      const calls = [...stats.entries()].map(([k, v]) => [k.replace("cmdstat_", ""), Number(/calls=(\d+)/.exec(v)?.[1] ?? 0)] as const).sort((a, b) => b[1] - a[1]);
      const totalCalls = calls.reduce((a, [, n]) => a + n, 0);
      const jobs = EPISODES;
      const jobKeys = ((await c.send("KEYS", ["one:jobs:cl-*"])) as string[]).filter((k) => /cl-[0-9a-f]+$/.test(k));
      const jobBytes = (await Promise.all(jobKeys.map((k) => c.send("MEMORY", ["USAGE", k, "SAMPLES", "0"])))).map(Number);
      const eventsBytes = Number(await c.send("MEMORY", ["USAGE", "one:jobs:events", "SAMPLES", "0"]));
      const eventsLen = Number(await c.send("XLEN", ["one:jobs:events"]));
      const keptPerJob = jobBytes.reduce((a, b) => a + b, 0) / jobBytes.length + (eventsBytes / Math.max(1, eventsLen)) * 5;
      log(`a finished closed-loop job's hash: ${(jobBytes.reduce((a, b) => a + b, 0) / jobBytes.length / 1024).toFixed(1)} KiB; events stream ${eventsLen} entries, ${(eventsBytes / 1024).toFixed(0)} KiB (capped by BullMQ at 10,000 entries)`);
      log(`1 worker: ${EPISODES} episodes in ${one.wallS.toFixed(2)} s; job time on the worker ${(one.jobMs.reduce((a, b) => a + b, 0) / EPISODES).toFixed(0)} ms each; ${cpuText(one)}`);
      log(`redis: ${totalCalls} commands for ${jobs} jobs (${(totalCalls / jobs).toFixed(0)} per job; top: ${calls.slice(0, 6).map(([k, n]) => `${k} ${n}`).join(", ")}); used_memory +${((mem1 - mem0) / 1024).toFixed(0)} KiB over the batch (client buffers and allocator included)`);
      await stop(workers.splice(0));

      // Two workers against one on the same episodes (fresh seeds, so nothing is re-used), each warmed up.
      workers.push(await startWorker(url, "one-b", "w1"));
      const oneB = await batch("one-b", workers, episodes(9200));
      await stop(workers.splice(0));
      workers.push(...(await Promise.all([startWorker(url, "two", "w1"), startWorker(url, "two", "w2")])));
      const two = await batch("two", workers, episodes(9200));
      log(`1 worker ${oneB.wallS.toFixed(2)} s, 2 workers ${two.wallS.toFixed(2)} s on the same ${EPISODES} episodes (${(oneB.wallS / two.wallS).toFixed(2)}×)`);
      log(`  1 worker:  ${cpuText(oneB)}`);
      log(`  2 workers: ${cpuText(two)}`);
      const free = freeCoresBound(oneB, two);
      if (free !== undefined) log(`  on 2 free cores the CPU accounting gives 2 workers ≈ ${free.toFixed(2)}× one (2 × main-thread s per episode with 1 worker / CPU s per episode with 2: the main thread is one worker's limit, both cores the two workers')`);
      c.close();
      const perJobIn = inProcessS / EPISODES;
      const perJobFleet = one.wallS / EPISODES;
      return [
        { name: "wall time per job, 1 worker (submit → result)", value: perJobFleet * 1000, unit: "ms", lowerIsBetter: true, baseline: { name: "in process, same episodes", value: perJobIn * 1000 }, goal: "overhead ≤ 5%" },
        ...(inProcessCpu && cpuPerEpisode(one) !== undefined
          ? [{ name: "CPU per job, 1 worker", value: cpuPerEpisode(one)!, unit: "s", lowerIsBetter: true, baseline: { name: "in process, same episodes", value: (inProcessCpu.mainS + inProcessCpu.otherS) / EPISODES }, goal: "overhead ≤ 5%", note: "what the wall-time row means when other processes take the cores" }]
          : []),
        { name: "episodes per s, 2 workers", value: EPISODES / two.wallS, unit: "/s", baseline: { name: "1 worker", value: EPISODES / oneB.wallS }, goal: "≥ 1.7× on 2 free cores", note: `cores the workers got: 1 worker ${coresText(oneB)}, 2 workers ${coresText(two)}` },
        ...(cpuPerEpisode(oneB) !== undefined && cpuPerEpisode(two) !== undefined
          ? [{ name: "worker CPU per episode, 2 workers", value: cpuPerEpisode(two)!, unit: "s", lowerIsBetter: true, baseline: { name: "1 worker", value: cpuPerEpisode(oneB)! }, note: `main thread ${mainShare(two)} of it (1 worker: ${mainShare(oneB)}); the rest is V8's background JIT compiler and GC` }]
          : []),
        ...(free !== undefined ? [{ name: "2 workers vs 1 on 2 free cores, from CPU accounting", value: free, unit: "×", goal: "≥ 1.7×", note: "2 × main-thread s/episode (1 worker) / CPU s/episode (2 workers)" }] : []),
        { name: "redis commands per job", value: totalCalls / jobs, unit: "cmds", lowerIsBetter: true, note: "coordinator polling (500 ms) included" },
        { name: "redis memory kept per job", value: keptPerJob / 1024, unit: "KiB", lowerIsBetter: true, note: "job hash (data + gzip'd result, kept for re-use) + its 5 events; used_memory delta in the log" },
      ];
    } finally {
      await stop(workers);
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default suite;
