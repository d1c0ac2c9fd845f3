/**
 * The fleet against a real Redis with real worker processes: faults survived (a worker SIGKILLed mid-job,
 * Redis restarted, a corrupt recording, a model that does not match), re-use and resume — and every
 * report equal to the single-process one, timing fields aside.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { checkReport, type EvalReport } from "../../../eval/score/report.ts";
import { scenariosOf } from "../../../sim/scenarios.ts";
import { evaluate } from "../../../eval/run/evaluate.ts";
import { parseSeeds, scenariosForSeeds, withDuration } from "../../../eval/run/scenarios.ts";
import { modelMeta } from "../../../eval/fleet/identity.ts";
import { QUEUE, type JobData, type JobReturn } from "../../../eval/fleet/jobs.ts";
import { redisConnection } from "../../../eval/fleet/redis.ts";
import { JobTracker } from "../../../eval/fleet/tracker.ts";
import { FUSIOND_VERSION } from "../../../bin/version.ts";
import { ensureBackend } from "../../../fusion/inference/decider.ts";
import { recordDrive, tinyModelDir } from "../eval-helpers.ts";
import { dropPrefix, fusiond, withoutTiming, OwnRedis, startWorker, testRedis, uniquePrefix, waitUntil, type WorkerProc } from "./helpers.ts";

const SEEDS = "3003-3006";
const DURATION = 3;

describe("fleet: workers on a real Redis", function () {
  this.timeout(300_000);
  let dir: string;
  let model: string;
  let a: string;
  let bad: string;
  let reference: EvalReport;
  /** The eval flags of the reference run (closed loop over SEEDS and open loop on `a`). */
  const evalArgs = (): string[] => ["eval", "--model", model, "--data", a, "--closed-loop", "--seeds", SEEDS, "--duration", String(DURATION), "--backend", "cpu", "--bootstrap", "200", "--quiet"];
  const same = (r: EvalReport): void => assert.deepEqual(withoutCommand(r), withoutCommand(reference));
  const withoutCommand = (r: EvalReport): unknown => ({ ...(withoutTiming(r) as object), command: "" });

  before(async () => {
    await ensureBackend("cpu"); // TF.js ready before the fixture model is built, whatever ran before in this process
    dir = mkdtempSync(join(tmpdir(), "fusiond-fleet-"));
    model = await tinyModelDir("tiny", ["camera", "radar", "gnss", "ego", "voice"], "late", 2, dir);
    a = join(dir, "a.mcap");
    writeFileSync(a, await recordDrive([{ ...scenariosOf("test")[1]!, durationS: 3 }], 3));
    bad = join(dir, "bad.mcap");
    writeFileSync(bad, "not an MCAP file, cut short by a failing disk");
    // The single-process report, in this process: what every fleet run must reproduce.
    ({ report: reference } = await evaluate({
      models: [model],
      data: [a],
      scenarios: withDuration(scenariosForSeeds(parseSeeds(SEEDS)), DURATION),
      suiteName: `seeds ${SEEDS}`,
      ablation: false,
      baselines: [],
      backend: "cpu",
      maskUnused: true,
      bootstrap: { iterations: 200, level: 0.95, seed: 1 },
      parallel: 4,
      transport: "in-process",
      command: "",
      version: FUSIOND_VERSION,
    }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("three workers", () => {
    let url: string;
    let own: OwnRedis | undefined;
    const prefix = uniquePrefix("three");
    let workers: WorkerProc[] = [];
    let queue: Queue<JobData, JobReturn>;
    before(async () => {
      ({ url, own } = await testRedis());
      workers = await Promise.all(["w1", "w2", "w3"].map((n) => startWorker(url, prefix, n)));
      queue = new Queue<JobData, JobReturn>(QUEUE, { connection: await redisConnection(url), prefix });
    });
    after(async () => {
      for (const w of workers) w.proc.kill("SIGKILL");
      await queue?.close();
      await dropPrefix(url, prefix);
      await own?.stop();
    });

    it("a corrupt recording: its job fails after N attempts with the reason, listed in the report; the rest completes; exit 1", async () => {
      const out = join(dir, "corrupt.json");
      const r = await fusiond(["eval", "--model", model, "--data", a, bad, "--backend", "cpu", "--bootstrap", "50", "--out", out, "--redis", url, "--prefix", prefix, "--attempts", "2"]);
      assert.equal(r.status, 1, r.stderr.slice(-2000));
      const report = checkReport(JSON.parse(readFileSync(out, "utf8")));
      assert.deepEqual(report.openLoop!.data.files, [a]);
      assert.equal(report.failures?.length, 1);
      assert.equal(report.failures![0]!.unit, bad);
      assert.match(report.failures![0]!.reason, /not an MCAP file.*\[not_mcap\]/);
      assert.match(r.stderr, /failed: open-loop tiny .*bad\.mcap/);
      const failed = await queue.getJobs(["failed"]);
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.attemptsMade, 2, "tried twice (--attempts 2) before it failed");
    });

    it("a worker whose model files do not match the job's model hash refuses the job and says why", async () => {
      const t = await JobTracker.open({ redis: url, prefix, attempts: 1, backoffMs: 100, pollMs: 100 });
      try {
        const ref = modelMeta(model).ref;
        const o = await t.submit({ kind: "closed-loop", version: FUSIOND_VERSION, backend: "cpu", model: { ...ref, hash: "0123456789abcdef" }, spec: { ...scenariosOf("test")[0]!, durationS: 1 }, mask: [] });
        assert.equal(o.ok, false);
        assert.match(!o.ok ? o.reason : "", new RegExp(`refused the job: model files at ${model} on this worker are hash ${ref.hash} .*planned with 0123456789abcdef.*sync the model directory`));
      } finally {
        await t.close();
      }
      await waitUntil(() => workers.some((w) => w.log().includes("refused a job")), "a worker's log line");
    });

    it("a worker SIGKILLed mid-job: its job runs again elsewhere and the report is complete and identical", async () => {
      const out = join(dir, "killed.json");
      let killed: string | undefined;
      const run = fusiond([...evalArgs(), "--out", out, "--redis", url, "--prefix", prefix]);
      // Kill whichever worker holds a closed-loop job first (stalled-job detection must bring it back).
      await waitUntil(async () => {
        const active = await queue.getJobs(["active"]);
        const victim = active.find((j) => j.data.kind === "closed-loop" && j.processedBy);
        if (!victim) return false;
        const w = workers.find((x) => x.name === victim.processedBy)!;
        w.proc.kill("SIGKILL");
        killed = `${victim.id}@${w.name}`;
        return true;
      }, "a closed-loop job to start");
      const r = await run;
      assert.equal(r.status, 0, r.stderr.slice(-2000));
      const [jobId, victim] = killed!.split("@");
      const job = await queue.getJob(jobId!);
      assert.equal(await job!.getState(), "completed");
      assert.notEqual(job!.returnvalue!.worker, victim, "finished by another worker");
      const report = checkReport(JSON.parse(readFileSync(out, "utf8")));
      assert.equal(report.closedLoop!.episodes, 4);
      same(report);
      workers = workers.filter((w) => w.name !== victim);
    });

    it("a re-submitted run re-uses finished results; a coordinator killed mid-run is picked up by fleet resume", async () => {
      const out = join(dir, "resumed.json");
      let runId = "";
      const args = [...evalArgs().filter((x) => x !== "--quiet"), "--seeds", "3010-3012", "--out", out, "--redis", url, "--prefix", prefix];
      const killed = await fusiond(args, {
        onStderr: (all, proc) => {
          runId ||= /fleet run ([0-9a-f]{12})/.exec(all)?.[1] ?? "";
          // Killed once it has submitted (the first progress line follows the first poll).
          if (runId && /^fleet: \d+\/\d+ done/m.test(all)) proc.kill("SIGKILL");
        },
      });
      assert.equal(killed.status, null, "the coordinator was killed");
      assert.ok(runId, killed.stderr);
      const status = await fusiond(["fleet", "status", runId, "--redis", url, "--prefix", prefix, "--json"]);
      assert.equal(status.status, 0, status.stderr);
      assert.ok((JSON.parse(status.stdout) as { jobs: number }).jobs >= 1);
      const resumed = await fusiond(["fleet", "resume", runId, "--redis", url, "--prefix", prefix, "--quiet"]);
      assert.equal(resumed.status, 0, resumed.stderr.slice(-2000));
      const first = checkReport(JSON.parse(readFileSync(out, "utf8")));
      assert.equal(first.closedLoop!.episodes, 3);
      assert.equal(first.closedLoop!.suite, "seeds 3010-3012");
      const again = await fusiond(args);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stderr, /4 done \(4 re-used\), 0 failed/);
      assert.deepEqual(withoutCommand(checkReport(JSON.parse(readFileSync(out, "utf8")))), withoutCommand(first));
    });
  });

  describe("Redis restarted (AOF on)", () => {
    let redis: OwnRedis;
    const prefix = uniquePrefix("restart");
    let workers: WorkerProc[] = [];
    before(async () => {
      redis = await OwnRedis.start();
      workers = await Promise.all(["r1", "r2"].map((n) => startWorker(redis.url, prefix, n)));
    });
    after(async () => {
      for (const w of workers) w.proc.kill("SIGKILL");
      await redis.stop();
    });

    it("workers and coordinator reconnect and the run finishes with the single-process report", async () => {
      const out = join(dir, "restart.json");
      let restarted = false;
      const queue = new Queue<JobData, JobReturn>(QUEUE, { connection: await redisConnection(redis.url), prefix });
      queue.on("error", () => undefined);
      const run = fusiond([...evalArgs(), "--out", out, "--redis", redis.url, "--prefix", prefix]);
      try {
        await waitUntil(async () => (await queue.getJobs(["completed"])).length >= 1, "a first job to complete");
        await queue.close();
        await redis.down();
        await new Promise((r) => setTimeout(r, 500));
        await redis.up();
        restarted = true;
      } finally {
        if (!restarted) await queue.close();
      }
      const r = await run;
      assert.equal(r.status, 0, r.stderr.slice(-2000));
      same(checkReport(JSON.parse(readFileSync(out, "utf8"))));
      assert.ok(workers.some((w) => /reconnecting/.test(w.log())), "the workers saw Redis go");
    });
  });
});
