/**
 * `npm run bench -- fleet`: what the fleet costs and gives, on a short closed-loop suite.
 *  - overhead per job: one worker process (concurrency 1) running N episodes, end to end from submission
 *    to the last result, against the same episodes run one after another in this process
 *    (runEpisodeInProcess, the code the worker runs);
 *  - two workers against one on the same N episodes (fresh seeds, so nothing is re-used);
 *  - Redis: bytes kept and commands sent per job (INFO memory / INFO commandstats on a redis-server of our
 *    own, so nobody else's keys or commands count), coordinator polling included.
 * Env: FUSIOND_BENCH_FLEET_EPISODES (default 6), FUSIOND_BENCH_FLEET_S (episode length, s, default 6),
 * FUSIOND_BENCH_FLEET_BACKEND (the workers' and jobs' backend, default auto).
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

const EPISODES = Number(process.env["FUSIOND_BENCH_FLEET_EPISODES"] ?? 6);
const EPISODE_S = Number(process.env["FUSIOND_BENCH_FLEET_S"] ?? 6);
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

      // In process: the worker's code, one episode after another, after a warm-up episode.
      const model = await loadEvalModel(MODEL);
      const mask = unusedModalities(model.spec);
      let inProcessS = 0;
      try {
        await runEpisodeInProcess(episodes(9000)[0]!, model, { mask });
        const t = performance.now();
        for (const spec of episodes(9100)) await runEpisodeInProcess(spec, model, { mask });
        inProcessS = (performance.now() - t) / 1000;
      } finally {
        model.close();
      }
      log(`in process: ${EPISODES} episodes in ${inProcessS.toFixed(2)} s (${((inProcessS / EPISODES) * 1000).toFixed(0)} ms each, backend ${model.info.backend})`);

      const batch = async (prefix: string, specs: ScenarioSpec[], afterWarmUp?: () => Promise<void>): Promise<{ wallS: number; jobMs: number[] }> => {
        const t = await JobTracker.open({ redis: url, prefix, attempts: 1, backoffMs: 1000, pollMs: 500 });
        try {
          await t.submit(jobOf(episodes(9000)[1]!, mask)); // warm-up: every worker has the model loaded, Redis its scripts
          await afterWarmUp?.();
          const t0 = performance.now();
          const outs = await Promise.all(specs.map((s) => t.submit(jobOf(s, mask))));
          const wallS = (performance.now() - t0) / 1000;
          const bad = outs.find((o) => !o.ok);
          if (bad && !bad.ok) throw new Error(`a bench job failed: ${bad.reason}`);
          return { wallS, jobMs: outs.map((o) => (o.ok ? o.ret.ms : 0)) };
        } finally {
          await t.close();
        }
      };

      // One worker: overhead per job, and Redis cost per job.
      workers.push(await startWorker(url, "one", "w1"));
      let mem0 = 0;
      const one = await batch("one", episodes(9100), async () => {
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
      log(`1 worker: ${EPISODES} episodes in ${one.wallS.toFixed(2)} s; job time on the worker ${(one.jobMs.reduce((a, b) => a + b, 0) / EPISODES).toFixed(0)} ms each`);
      log(`redis: ${totalCalls} commands for ${jobs} jobs (${(totalCalls / jobs).toFixed(0)} per job; top: ${calls.slice(0, 6).map(([k, n]) => `${k} ${n}`).join(", ")}); used_memory +${((mem1 - mem0) / 1024).toFixed(0)} KiB over the batch (client buffers and allocator included)`);
      await stop(workers.splice(0));

      // Two workers on fresh seeds (nothing re-used), against one on the same seeds.
      workers.push(await startWorker(url, "one-b", "w1"));
      const oneB = await batch("one-b", episodes(9200));
      await stop(workers.splice(0));
      workers.push(...(await Promise.all([startWorker(url, "two", "w1"), startWorker(url, "two", "w2")])));
      const two = await batch("two", episodes(9200));
      log(`1 worker ${oneB.wallS.toFixed(2)} s, 2 workers ${two.wallS.toFixed(2)} s on the same ${EPISODES} episodes`);
      c.close();
      const perJobIn = inProcessS / EPISODES;
      const perJobFleet = one.wallS / EPISODES;
      return [
        { name: "wall time per job, 1 worker (submit → result)", value: perJobFleet * 1000, unit: "ms", lowerIsBetter: true, baseline: { name: "in process, same episodes", value: perJobIn * 1000 }, goal: "overhead ≤ 5%" },
        { name: "episodes per s, 2 workers", value: EPISODES / two.wallS, unit: "/s", baseline: { name: "1 worker", value: EPISODES / oneB.wallS }, goal: "≥ 1.7× on 2 free cores" },
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
