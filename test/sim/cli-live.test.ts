/**
 * `fusiond sim` live mode as a process: SIGINT ends it cleanly (exit 0) with a score summary; --zmq
 * publishes the sensor topics on a PUB socket.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ZmqSource } from "../../sensors/index.ts";
import { freePort, mosquittoOrAedes, uniqueVehicle, type TestBroker } from "../sensors/helpers.ts";

const FUSIOND = fileURLToPath(new URL("../../bin/fusiond.js", import.meta.url));

interface Proc {
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  kill(sig: NodeJS.Signals): void;
}

function fusiond(args: string[]): Proc {
  const child = spawn(process.execPath, [FUSIOND, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { stdout: () => out, stderr: () => err, exited, kill: (sig) => child.kill(sig) };
}

async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("fusiond sim live (process)", function () {
  this.timeout(120_000);
  let broker: TestBroker;
  before(async () => {
    broker = await mosquittoOrAedes();
  });
  after(async () => broker.stop());

  it("exits 0 on SIGINT with a score summary", async () => {
    const p = fusiond(["sim", "--mqtt", broker.url, "--vehicle", uniqueVehicle("cli"), "--seed", "3", "--duration", "120", "--driver", "expert", "--sensors", "ego,radar"]);
    try {
      // Non-TTY stderr: the start line only (progress is for terminals).
      await until(() => /live on mqtt:/.test(p.stderr()), "the start line", 60_000);
      await new Promise((r) => setTimeout(r, 1500));
      p.kill("SIGINT");
      const code = await p.exited;
      assert.equal(code, 0, `exit code; stderr: ${p.stderr()}`);
      assert.match(p.stdout(), /live-3-\d+: \d+\.\d s, \d+ m .*collisions 0/);
      assert.match(p.stdout(), /live: \d+ steps .* stopped early/);
    } finally {
      p.kill("SIGKILL");
    }
  });

  it("--zmq publishes the sensor topics on a PUB socket (open loop with --driver expert)", async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    const vehicle = uniqueVehicle("zmq");
    const src = new ZmqSource({ endpoint, now: () => process.hrtime.bigint() });
    const kinds = new Map<string, number>();
    const sub = src.subscribe([`vehicles/${vehicle}/#`]).subscribe((m) => {
      const kind = m.topic.split("/").slice(2, 4).join("/");
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    });
    const p = fusiond(["sim", "--zmq", endpoint, "--vehicle", vehicle, "--duration", "3", "--driver", "expert", "--json", "--quiet"]);
    try {
      const code = await p.exited;
      assert.equal(code, 0, p.stderr());
      const result = JSON.parse(p.stdout()) as { stats: { published: number; mode: string } };
      assert.equal(result.stats.mode, "live");
      assert.ok(result.stats.published > 100);
      for (const k of ["sensors/camera", "sensors/radar", "sensors/gnss", "ego", "sim/step", "sim/truth"]) assert.ok((kinds.get(k) ?? 0) > 5, `${k}: ${kinds.get(k) ?? 0} received`);
    } finally {
      p.kill("SIGKILL");
      sub.unsubscribe();
      await src.close();
    }
  });

  it("refuses --zmq without a decision endpoint in closed loop (exit 2)", async () => {
    const p = fusiond(["sim", "--zmq", "tcp://127.0.0.1:1", "--duration", "1"]);
    assert.equal(await p.exited, 2);
    assert.match(p.stderr(), /--zmq-decisions/);
  });
});
