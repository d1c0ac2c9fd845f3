/**
 * Fixtures for the fleet tests: a Redis (the one at 127.0.0.1:6379, else our own), our own redis-server
 * with AOF in a temp dir (for restarts), worker processes, the CLI as a child process, key clean-up.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EvalReport } from "../../../eval/score/report.ts";
import { RedisCommands } from "../../../eval/fleet/redis.ts";
import { portOpen } from "../../sensors/helpers.ts";

/** The report without what measures this machine (wall time, inference time, creation time). */
export function withoutTiming(report: EvalReport): unknown {
  return JSON.parse(JSON.stringify(report), (k, v: unknown) => (k === "wallS" || k === "created" || k === "inferenceMs" || k === "totalMs" ? undefined : v));
}

export const BIN = new URL("../../../bin/fusiond.js", import.meta.url).pathname;

export const uniquePrefix = (tag: string): string => `fusiond-test-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server of our own on a free port, AOF on (appendfsync always), data in a temp dir. */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<OwnRedis> {
    if (spawnSync("redis-server", ["--version"]).status !== 0) throw new Error("redis-server is not installed: apt-get install -y redis-server (.ci/run does)");
    const r = new OwnRedis(await freePort(), mkdtempSync(join(tmpdir(), "fusiond-redis-")));
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.proc = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction"], { stdio: "ignore" });
    for (let i = 0; i < 100 && !(await portOpen(this.port)); i++) await new Promise((r) => setTimeout(r, 50));
    if (!(await portOpen(this.port))) throw new Error(`our redis-server did not come up on ${this.port}`);
  }

  /** Stops the server (SIGTERM: it flushes the AOF) and waits for it to exit. */
  async down(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await exited;
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The shared Redis at 127.0.0.1:6379 when it is up, else one of our own (stop it after). */
export async function testRedis(): Promise<{ url: string; own?: OwnRedis }> {
  if (await portOpen(6379)) return { url: "redis://127.0.0.1:6379" };
  const own = await OwnRedis.start();
  return { url: own.url, own };
}

/** Deletes every key under a prefix. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const c = new RedisCommands(url);
  await c.connect();
  try {
    let cursor = "0";
    do {
      const [next, keys] = (await c.send("SCAN", [cursor, "MATCH", `${prefix}:*`, "COUNT", 1000])) as [string, string[]];
      if (keys.length) await c.send("DEL", keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    c.close();
  }
}

export interface WorkerProc {
  name: string;
  proc: ChildProcess;
  log: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `fusiond worker` and waits until it takes jobs. */
export async function startWorker(url: string, prefix: string, name: string, extra: string[] = []): Promise<WorkerProc> {
  const proc = spawn(process.execPath, [BIN, "worker", "--redis", url, "--prefix", prefix, "--name", name, "--http", "off", "--backend", "cpu", "--lock-duration", "3000", "--stalled-interval", "1000", ...extra], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const t0 = Date.now();
  while (!err.includes("taking jobs")) {
    if (proc.exitCode !== null) throw new Error(`worker ${name} exited: ${err}`);
    if (Date.now() - t0 > 60_000) throw new Error(`worker ${name} did not start in 60 s: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, proc, log: () => err, exited };
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking the event loop; `onStderr` sees stderr as it comes. */
export function fusiond(args: string[], o: { cwd?: string; onStderr?: (all: string, proc: ChildProcess) => void; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], ...(o.cwd ? { cwd: o.cwd } : {}) });
    let stdout = "";
    let stderr = "";
    proc.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    proc.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      o.onStderr?.(stderr, proc);
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), o.timeoutMs ?? 240_000);
    proc.once("exit", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export const waitUntil = async (cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
