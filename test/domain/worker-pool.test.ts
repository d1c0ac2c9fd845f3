/**
 * domain/worker-pool.ts, the bounded worker pool under the camera decode and encode pools, on a tiny worker
 * (a data: URL, as the camera pools' tests make theirs): it doubles `n` after `delayMs`, reports how many bytes
 * it was handed, and exits with code 7 on a job marked `crash`.
 */
import assert from "node:assert/strict";
import { WorkerPool, type WorkerPoolOutcome } from "../../domain/worker-pool.ts";

interface Job {
  n: number;
  delayMs?: number;
  crash?: boolean;
  buf?: ArrayBuffer;
}
interface Request extends Job {
  id: number;
}
interface Reply {
  id: number;
  n: number;
  bytes: number;
}
interface Done {
  ok: true;
  inline: boolean;
  n: number;
  bytes: number;
}

const WORKER = new URL(
  "data:text/javascript," +
    encodeURIComponent(`import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.crash) process.exit(7);
  setTimeout(() => parentPort.postMessage({ id: m.id, n: m.n * 2, bytes: m.buf ? m.buf.byteLength : 0 }), m.delayMs ?? 0);
});`),
);

function makePool(o: { workers?: number; maxQueued?: number; closeTimeoutMs?: number } = {}) {
  const inlined: number[] = [];
  const pool = new WorkerPool<Job, Request, Reply, Done>({
    workerUrl: WORKER,
    workers: o.workers ?? 1,
    maxQueued: o.maxQueued ?? 4,
    closeTimeoutMs: o.closeTimeoutMs ?? 5000,
    names: { pool: "test pool", queue: "test queue", worker: "test worker", item: "job" },
    post: (job, id) => ({ message: { id, ...job }, transfer: job.buf ? [job.buf] : [] }),
    reply: (r) => ({ ok: true, inline: false, n: r.n, bytes: r.bytes }),
    inline: (job) => {
      inlined.push(job.n);
      return { ok: true, inline: true, n: job.n * 2, bytes: 0 };
    },
  });
  return { pool, inlined };
}

/** "ok:N" (in a worker), "inline:N", or the drop. */
const show = (o: WorkerPoolOutcome<Done>): string => (o.ok ? `${o.inline ? "inline" : "ok"}:${o.n}` : o.dropped);
const reasonOf = (o: WorkerPoolOutcome<Done>): string => (o.ok ? "" : o.reason);

describe("domain/worker-pool", function () {
  this.timeout(60_000);
  let pool: WorkerPool<Job, Request, Reply, Done> | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it("runs a job in a worker and transfers the buffers post() names (detached here at once)", async () => {
    ({ pool } = makePool());
    const buf = new ArrayBuffer(1000);
    const done = pool.submit({ n: 21, buf });
    assert.equal(buf.byteLength, 0, "transferred, not copied");
    const o = await done;
    assert.deepEqual(o, { ok: true, inline: false, n: 42, bytes: 1000 });
    assert.deepEqual(pool.stats(), { submitted: 1, dropped: { queue_full: 0, closed: 0, worker_failed: 0 }, queued: 0, inFlight: 0, workerRestarts: 0 });
  });

  it("bounds its queue: a job arriving to a full queue displaces the oldest waiting one, which resolves as dropped", async () => {
    ({ pool } = makePool({ workers: 1, maxQueued: 2 }));
    const pending = [pool.submit({ n: 1, delayMs: 200 }), pool.submit({ n: 2 }), pool.submit({ n: 3 }), pool.submit({ n: 4 }), pool.submit({ n: 5 })];
    assert.equal(pool.stats().inFlight, 1);
    assert.equal(pool.stats().queued, 2, "never more than maxQueued waiting");
    const outcomes = await Promise.all(pending);
    // 1 in flight; 2, 3 wait; 4 displaces 2, 5 displaces 3: the newest are kept.
    assert.deepEqual(outcomes.map(show), ["ok:2", "queue_full", "queue_full", "ok:8", "ok:10"]);
    assert.equal(reasonOf(outcomes[1]!), "test queue full (2 waiting): a newer job displaced this one");
    const st = pool.stats();
    assert.equal(st.dropped.queue_full, 2);
    assert.equal(st.submitted, 5);
    assert.equal(st.queued + st.inFlight, 0);
  });

  it("with no queue, a job arriving while every worker is busy is itself dropped", async () => {
    ({ pool } = makePool({ workers: 1, maxQueued: 0 }));
    const outcomes = await Promise.all([pool.submit({ n: 1, delayMs: 100 }), pool.submit({ n: 2 })]);
    assert.deepEqual(outcomes.map(show), ["ok:2", "queue_full"]);
    assert.equal(reasonOf(outcomes[1]!), "test queue is full (no queue configured)");
  });

  it("a worker that dies fails only its own job and is replaced: the others, running or waiting, are done in workers", async () => {
    ({ pool } = makePool({ workers: 2, maxQueued: 4 }));
    const outcomes = await Promise.all([pool.submit({ n: 1, delayMs: 300 }), pool.submit({ n: 2, crash: true }), pool.submit({ n: 3 }), pool.submit({ n: 4 })]);
    assert.deepEqual(outcomes.map(show), ["ok:2", "worker_failed", "ok:6", "ok:8"]);
    assert.equal(reasonOf(outcomes[1]!), "test worker failed: exited with code 7");
    assert.equal(pool.stats().workerRestarts, 1);
    assert.equal(pool.stats().dropped.worker_failed, 1);
    assert.equal(pool.workers, 2);
  });

  it("after 5 failures in a row no worker is replaced: with none left, waiting and later jobs are done inline", async () => {
    let inlined: number[];
    ({ pool, inlined } = makePool({ workers: 1, maxQueued: 4 }));
    for (let i = 1; i <= 5; i++) {
      assert.equal(show(await pool.submit({ n: i, crash: true })), "worker_failed");
      assert.equal(pool.stats().workerRestarts, i);
      assert.equal(pool.workers, 1, `replaced after failure ${i}`);
    }
    assert.deepEqual(inlined, []);
    // The 6th in a row: the worker is not replaced, and the two jobs waiting behind it are done inline.
    const outcomes = await Promise.all([pool.submit({ n: 6, crash: true }), pool.submit({ n: 7 }), pool.submit({ n: 8 })]);
    assert.deepEqual(outcomes.map(show), ["worker_failed", "inline:14", "inline:16"]);
    assert.equal(pool.workers, 0);
    assert.equal(pool.stats().workerRestarts, 5);
    assert.equal(show(await pool.submit({ n: 9 })), "inline:18");
    assert.deepEqual(inlined, [7, 8, 9]);
  });

  it("a job done between failures resets the count: the worker that fails next is replaced", async () => {
    ({ pool } = makePool({ workers: 1 }));
    for (let i = 1; i <= 5; i++) assert.equal(show(await pool.submit({ n: i, crash: true })), "worker_failed");
    assert.equal(show(await pool.submit({ n: 10 })), "ok:20");
    assert.equal(show(await pool.submit({ n: 11, crash: true })), "worker_failed");
    assert.equal(pool.stats().workerRestarts, 6);
    assert.equal(show(await pool.submit({ n: 12 })), "ok:24", "still in a worker");
  });

  it("close() resolves waiting jobs as closed, lets the one in flight finish; later jobs resolve as closed", async () => {
    ({ pool } = makePool({ workers: 1, maxQueued: 4 }));
    const pending = [pool.submit({ n: 1, delayMs: 150 }), pool.submit({ n: 2 }), pool.submit({ n: 3 })];
    await pool.close();
    const outcomes = await Promise.all(pending);
    assert.deepEqual(outcomes.map(show), ["ok:2", "closed", "closed"]);
    assert.equal(reasonOf(outcomes[1]!), "the test pool closed before this job's turn");
    const after = await pool.submit({ n: 4 });
    assert.equal(reasonOf(after), "the test pool is closed");
    let ran = false;
    const inlineAfter = await pool.runInline(() => ((ran = true), { ok: true, inline: true, n: 0, bytes: 0 }));
    assert.equal(show(inlineAfter), "closed");
    assert.equal(ran, false, "runInline does not run once closed");
    assert.equal(pool.stats().dropped.closed, 4);
    assert.equal(pool.stats().submitted, 5);
    assert.equal(pool.workers, 0);
    await pool.close(); // idempotent
  });

  it("close() waits for a job in flight no longer than closeTimeoutMs: it resolves as closed", async () => {
    ({ pool } = makePool({ workers: 1, closeTimeoutMs: 50 }));
    const slow = pool.submit({ n: 1, delayMs: 30_000 });
    const t0 = Date.now();
    await pool.close();
    assert.ok(Date.now() - t0 < 10_000, `close took ${Date.now() - t0} ms`);
    const o = await slow;
    assert.equal(show(o), "closed");
    assert.equal(reasonOf(o), "the test pool closed while this job was in a worker");
  });

  it("runInline: the caller's value, counted as submitted, while the pool is open", async () => {
    ({ pool } = makePool());
    const o = await pool.runInline(() => ({ ok: true, inline: true, n: 5, bytes: 0 }));
    assert.equal(show(o), "inline:5");
    assert.equal(pool.stats().submitted, 1);
  });
});
