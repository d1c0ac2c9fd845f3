/**
 * The training feature cache's writes (train/data.ts): unique temporary names per writer, and best effort — a
 * cache that cannot be written never fails a training. Ensemble members extract in worker threads of one
 * process, and two once wrote the same recording's cache through one temporary name: the second rename failed
 * with ENOENT and took the training down.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { cacheTmpPath, writeCacheFile } from "../../train/data.ts";

describe("train/data: the feature cache's writes", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "fusiond-cache-test-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("gives every writer of a path its own temporary name, in this thread and in a worker thread of the process", async () => {
    const path = join(dir, "a.mcap.key.v9");
    const here = [cacheTmpPath(path), cacheTmpPath(path)];
    const worker = new Worker(
      `const { workerData, parentPort } = require("node:worker_threads"); parentPort.postMessage(workerData.pid + "." + require("node:worker_threads").threadId);`,
      { eval: true, workerData: { pid: process.pid } },
    );
    const other = await new Promise<string>((resolve, reject) => worker.once("message", resolve).once("error", reject));
    await worker.terminate();
    assert.notEqual(here[0], here[1]);
    for (const t of here) assert.ok(t.startsWith(`${path}.${process.pid}.0.`) && t.endsWith(".tmp"), t);
    assert.ok(!here.some((t) => t.includes(`.${other}.`)), "a worker thread's names differ by its thread id");
  });

  it("writes atomically, and two writers of one path both succeed with one of their contents", () => {
    const path = join(dir, "sub", "b.mcap.key.v9");
    assert.equal(writeCacheFile(path, Uint8Array.of(1, 2, 3), () => {}), true);
    assert.equal(writeCacheFile(path, Uint8Array.of(1, 2, 3), () => {}), true);
    assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
    assert.deepEqual(readdirSync(join(dir, "sub")), ["b.mcap.key.v9"], "no temporary file left behind");
  });

  it("is best effort: a cache that cannot be written is logged, leaves nothing behind and does not throw", () => {
    const blocker = join(dir, "not-a-dir");
    writeFileSync(blocker, "x");
    const lines: string[] = [];
    assert.equal(writeCacheFile(join(blocker, "c.v9"), Uint8Array.of(1), (s) => lines.push(s)), false);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /feature cache not written .*training goes on without it/);
    assert.deepEqual(readdirSync(dir), ["not-a-dir"]);
  });
});
