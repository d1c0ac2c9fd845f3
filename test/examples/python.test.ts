/**
 * The Python examples (examples/python) run against a real broker, speaking only the public protocol:
 * protobuf classes generated here by `protoc --python_out`, paho-mqtt 1.6 and python3-protobuf from Debian,
 * Debian's own /usr/bin/python3 (a python3 earlier on PATH may not see Debian's modules).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { map } from "rxjs";
import { PROTO_DIR } from "../../schemas/index.ts";
import { TopicRegistry } from "../../schemas/topics.ts";
import type { SensorMessage } from "../../schemas/types.ts";
import { MqttTransport, SensorSink, SensorSource } from "../../sensors/index.ts";
import { startLiveSim, wallClock } from "../../sim/live.ts";
import type { DecisionLike } from "../../sim/lockstep.ts";
import { protoc, requireTool } from "../interop/tools.ts";
import { mosquittoOrAedes, uniqueVehicle, type TestBroker } from "../sensors/helpers.ts";
import { stubDecider } from "../sim/stub-decider.ts";

const PYTHON = "/usr/bin/python3";
const EXAMPLES = fileURLToPath(new URL("../../examples/python/", import.meta.url));

interface Py {
  lines: () => Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
  kill(): void;
}

function python(script: string, args: string[]): Py {
  // -B: no __pycache__ in the source tree.
  const child = spawn(PYTHON, ["-B", join(EXAMPLES, script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return {
    lines: () =>
      out
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: () => err,
    exited,
    kill: () => child.kill("SIGKILL"),
  };
}

async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function protoFiles(): string[] {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith(".proto") ? [join(d, e.name)] : []));
  return walk(PROTO_DIR).map((f) => relative(PROTO_DIR, f));
}

describe("examples/python over MQTT", function () {
  this.timeout(120_000);
  let broker: TestBroker;
  let pb: string;

  before(async () => {
    requireTool("protoc");
    requireTool("google-protos");
    const probe = spawnSync(PYTHON, ["-c", "import paho.mqtt, google.protobuf; print(paho.mqtt.__version__)"]);
    if (probe.status !== 0) {
      throw new Error(`${PYTHON} cannot import paho.mqtt and google.protobuf: install the Debian packages python3-paho-mqtt and python3-protobuf (.ci/run does). ${probe.stderr}`);
    }
    assert.match(probe.stdout.toString(), /^1\.6\./, "the examples use the paho-mqtt 1.6 API");
    pb = mkdtempSync(join(tmpdir(), "fusiond-pb-"));
    protoc([`--python_out=${pb}`, ...protoFiles()]);
    broker = await mosquittoOrAedes();
  });
  after(async () => {
    if (pb) rmSync(pb, { recursive: true, force: true });
    await broker?.stop();
  });

  it("lockstep_decider.py drives fusiond's simulator in lockstep: no lost or duplicated steps", async () => {
    const vehicle = uniqueVehicle("py");
    const py = python("lockstep_decider.py", ["--mqtt", broker.url, "--vehicle", vehicle, "--pb", pb, "--idle-timeout", "20"]);
    const sim = await MqttTransport.connect({ url: broker.url, now: wallClock.nowNs, clientId: `${vehicle}-sim` });
    const source = new SensorSource(sim);
    try {
      await until(() => py.stderr().includes("ready"), "the decider to subscribe");
      const decisions = source.messages([new TopicRegistry(vehicle).topicFor("decision")]).pipe(map((m) => m.message as DecisionLike));
      const scenario = { name: "py-lockstep", seed: 71, durationS: 5, weather: ["fog" as const], events: ["stopped_vehicle" as const, "cut_in" as const] };
      const result = await startLiveSim({ sink: new SensorSink(sim), decisions, scenario, vehicle, lockstep: { timeoutMs: 5000, policy: "abort" } }).done;
      assert.equal(await py.exited, 0, py.stderr());
      const n = 5 / 0.05 + 1;
      assert.equal(result.stats.aborted, false);
      assert.equal(result.stats.timeouts, 0);
      assert.equal(result.stats.stale, 0);
      assert.equal(result.stats.decisions, n - 1);
      const summary = py.lines().at(-1)!["summary"] as Record<string, unknown>;
      assert.deepEqual(summary, { steps: n, first: 0, last: n - 1, gaps: [], duplicates: [], decisions: n - 1, done: true });
    } finally {
      py.kill();
      source.close();
      await sim.close();
    }
  });

  it("scripted_scenario.py publishes the fog scenario at nominal rates and prints each decision it receives", async () => {
    const vehicle = uniqueVehicle("pyscn");
    const reg = new TopicRegistry(vehicle);
    const t = await MqttTransport.connect({ url: broker.url, now: wallClock.nowNs, clientId: `${vehicle}-daemon` });
    const source = new SensorSource(t);
    const sink = new SensorSink(t);
    const got: SensorMessage[] = [];
    // A stand-in for the daemon: one decision per camera frame, braking once radar sees something close ahead.
    let nearest = Infinity;
    const sub = source.messages([`vehicles/${vehicle}/#`]).subscribe((m) => {
      got.push(m);
      if (m.kind === "radar") {
        const ahead = (m.message.returns as { range_m: number; azimuth_rad: number }[]).filter((r) => Math.abs(r.range_m * Math.sin(r.azimuth_rad)) < 1.6);
        nearest = Math.min(...ahead.map((r) => r.range_m), Infinity);
      }
      if (m.kind === "camera") {
        const brake = nearest < 60;
        void sink.publish(reg.topicFor("decision"), { frame_stamp: m.message.timestamp, action: brake ? "BRAKE_HARD" : "KEEP", target_speed_mps: brake ? 0 : 15, model_id: "ts-stub" });
      }
    });
    await new Promise((r) => setTimeout(r, 200));
    const py = python("scripted_scenario.py", ["--mqtt", broker.url, "--vehicle", vehicle, "--pb", pb, "--duration", "5", "--gap", "70", "--speed", "15"]);
    try {
      assert.equal(await py.exited, 0, py.stderr());
      await new Promise((r) => setTimeout(r, 200));
      const lines = py.lines();
      const summary = lines.at(-1)!["summary"] as { decisions: number; collision: boolean; stopped: boolean; min_gap_m: number; sim_s: number; published: Record<string, number> };
      const decisions = lines.slice(0, -1);
      assert.ok(decisions.length > 20, `decisions printed: ${decisions.length}`);
      for (const d of decisions) assert.ok(["KEEP", "BRAKE_HARD"].includes(d["action"] as string) && d["model_id"] === "ts-stub" && typeof d["frame_stamp_ns"] === "number");
      assert.equal(decisions.length, summary.decisions);
      assert.equal(summary.collision, false, "the stub braked in time on radar alone");
      assert.equal(summary.stopped, true);
      // Every message decoded with fusiond's own codec, at its nominal rate.
      assert.equal(source.counters.accepted, source.counters.received);
      const simS = summary.sim_s;
      const rate = (kind: string): number => got.filter((m) => m.kind === kind).length / simS;
      for (const [kind, hz] of [["camera", 20], ["radar", 20], ["ego", 50], ["gnss", 10]] as const) {
        assert.ok(Math.abs(rate(kind) - hz) / hz < 0.06, `${kind}: ${rate(kind).toFixed(1)} Hz (nominal ${hz})`);
      }
      const camera = got.find((m) => m.kind === "camera")!;
      assert.equal(camera.type === "foxglove.CompressedImage" && camera.message.format, "jpeg");
      assert.deepEqual([...(camera.message.data as Uint8Array).subarray(0, 2)], [0xff, 0xd8], "a JPEG");
      const firstRadar = got.find((m) => m.kind === "radar")!.message.returns as { range_m: number; radial_velocity_mps: number; azimuth_rad: number }[];
      const target = firstRadar.find((r) => Math.abs(r.azimuth_rad) < 0.05)!;
      assert.ok(Math.abs(target.range_m - 70.5) < 2 && Math.abs(target.radial_velocity_mps + 15) < 0.5, `radar sees the stopped vehicle closing: ${JSON.stringify(target)}`);
      // Stamps are wall-clock times (a live drive), within a second of the receive times.
      for (const m of got.filter((x) => x.kind !== "decision")) assert.ok(m.receiveNs - m.stampNs < 1_000_000_000n && m.receiveNs - m.stampNs > -1_000_000_000n);
    } finally {
      py.kill();
      sub.unsubscribe();
      source.close();
      await t.close();
    }
  });

  it("scripted_scenario.py --lockstep is a lockstep simulator: waits for each step's decision", async () => {
    const vehicle = uniqueVehicle("pyls");
    const t = await MqttTransport.connect({ url: broker.url, now: wallClock.nowNs, clientId: `${vehicle}-decider` });
    const decider = stubDecider({ vehicle, source: t, sink: t, decide: (step) => ({ action: step < 20 ? "KEEP" : "STOP", target_speed_mps: step < 20 ? 15 : 0 }) });
    await new Promise((r) => setTimeout(r, 200));
    const py = python("scripted_scenario.py", ["--mqtt", broker.url, "--vehicle", vehicle, "--pb", pb, "--lockstep", "--duration", "3", "--timeout", "5"]);
    try {
      assert.equal(await py.exited, 0, py.stderr());
      await decider.close();
      const summary = py.lines().at(-1)!["summary"] as { decisions: number; timeouts: number; stale: number; published: Record<string, number> };
      const n = 3 / 0.05 + 1;
      assert.deepEqual(decider.steps, Array.from({ length: n }, (_, i) => i), "SimStep 0..N once each");
      assert.equal(decider.done, true);
      assert.equal(summary.published["sim/step"], n);
      assert.equal(summary.decisions, n - 1);
      assert.equal(summary.timeouts, 0);
      assert.equal(summary.stale, 0);
      const actions = py.lines().slice(0, -1).map((l) => l["action"]);
      assert.equal(actions[0], "KEEP");
      assert.equal(actions.at(-1), "STOP", "the decisions drove the scripted ego");
    } finally {
      py.kill();
      await t.close();
    }
  });
});
