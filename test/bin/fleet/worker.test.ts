/**
 * One fleet worker process: /healthz and /metrics like the daemon's, replay jobs whose merged output is
 * what `fusiond replay FILES...` writes in one process, and SIGTERM handing back a job it cannot finish.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { modelMeta } from "../../../eval/fleet/identity.ts";
import { QUEUE, jobIdOf, type JobData, type JobReturn } from "../../../eval/fleet/jobs.ts";
import { redisConnection } from "../../../eval/fleet/redis.ts";
import { FUSIOND_VERSION } from "../../../bin/version.ts";
import { ensureBackend } from "../../../fusion/inference/decider.ts";
import { recordDrive, tinyModelDir } from "../eval-helpers.ts";
import { dropPrefix, fusiond, startWorker, testRedis, uniquePrefix, waitUntil, type OwnRedis, type WorkerProc } from "./helpers.ts";

/** A replay report without what measures this machine. */
const untimed = (text: string): unknown =>
  JSON.parse(text, (k, v: unknown) => (["wallS", "speedX", "cpuS", "startupS", "inference_ms"].includes(k) ? undefined : v));

describe("fleet: a worker process", function () {
  this.timeout(300_000);
  let dir: string;
  let model: string;
  let files: string[];
  let url: string;
  let own: OwnRedis | undefined;
  const prefix = uniquePrefix("worker");
  let worker: WorkerProc;
  before(async () => {
    ({ url, own } = await testRedis());
    await ensureBackend("cpu"); // TF.js ready before the fixture model is built, whatever ran before in this process
    dir = mkdtempSync(join(tmpdir(), "fusiond-fleet-worker-"));
    model = await tinyModelDir("tiny", ["camera", "radar", "gnss", "ego", "voice"], "late", 2, dir);
    files = [join(dir, "a.mcap"), join(dir, "b.mcap")];
    writeFileSync(files[0]!, await recordDrive([{ ...scenariosOf("test")[1]!, durationS: 2 }], 2));
    writeFileSync(files[1]!, await recordDrive([{ ...scenariosOf("test")[3]!, durationS: 2 }], 2));
    // A long lock: on a loaded machine a 3 s lock can lapse mid-job and the job runs twice (harmless, but it would
    // make the job counters below count twice).
    worker = await startWorker(url, prefix, "solo", ["--http", "127.0.0.1:0", "--grace", "0", "--lock-duration", "20000"]);
  });
  after(async () => {
    worker?.proc.kill("SIGKILL");
    await dropPrefix(url, prefix);
    await own?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves /healthz and /metrics like the daemon", async () => {
    const base = /metrics at (http:\/\/[^/\s]+)\/metrics/.exec(worker.log())![1]!;
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    const body = (await h.json()) as { ok: boolean; worker: string; redis: string };
    assert.equal(body.ok, true);
    assert.equal(body.worker, "solo");
    assert.equal(body.redis, "connected");
    const m = await (await fetch(`${base}/metrics`)).text();
    assert.match(m, /fusiond_fleet_jobs_running 0/);
    assert.match(m, /fusiond_fleet_redis_up 1/);
  });

  it("fusiond replay FILES... --redis writes what the single-process replay writes", async () => {
    const single = join(dir, "single.json");
    const fleet = join(dir, "fleet.json");
    const a = await fusiond(["replay", ...files, "-m", model, "--backend", "cpu", "-o", single, "-q"]);
    assert.equal(a.status, 0, a.stderr.slice(-2000));
    const b = await fusiond(["replay", ...files, "-m", model, "--backend", "cpu", "-o", fleet, "-q", "--redis", url, "--prefix", prefix]);
    assert.equal(b.status, 0, b.stderr.slice(-2000));
    const set = untimed(readFileSync(fleet, "utf8")) as { schema: string; reports: Array<{ file: string; decisions: number }>; failures: unknown[] };
    assert.equal(set.schema, "fusiond.replay-set/1");
    assert.deepEqual(set.reports.map((r) => r.file), files);
    assert.ok(set.reports.every((r) => r.decisions > 10));
    assert.deepEqual(set, untimed(readFileSync(single, "utf8")));
    const m = await (await fetch(`${/metrics at (http:\/\/[^/\s]+)\/metrics/.exec(worker.log())![1]!}/metrics`)).text();
    const fleetLines = m.split("\n").filter((l) => l.startsWith("fusiond_fleet_jobs_total")).join("\n");
    assert.match(fleetLines, /fusiond_fleet_jobs_total\{kind="replay",outcome="done"\} 2/, fleetLines);
  });

  it("SIGTERM: a job that cannot finish within --grace goes back to the queue, and the worker exits 0", async () => {
    const queue = new Queue<JobData, JobReturn>(QUEUE, { connection: await redisConnection(url), prefix });
    try {
      const data: JobData = { kind: "closed-loop", version: FUSIOND_VERSION, backend: "cpu", model: modelMeta(model).ref, spec: { ...scenariosOf("test")[2]!, durationS: 30 }, mask: [] };
      await queue.add("closed-loop", data, { jobId: jobIdOf(data), attempts: 2 });
      await waitUntil(async () => (await queue.getJobs(["active"])).length === 1, "the worker to take the job");
      worker.proc.kill("SIGTERM");
      assert.equal(await worker.exited, 0);
      assert.match(worker.log(), /handed back closed-loop/);
      const state = await queue.getJobState(jobIdOf(data));
      assert.equal(state, "waiting", "back in the queue for another worker");
    } finally {
      await queue.close();
    }
  });
});
