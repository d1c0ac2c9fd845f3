/**
 * The daemon under 3× the nominal sensor rates for 60 s (issue 8; FUSIOND_BENCH_DAEMON_RATE=1 for the nominal
 * 20 Hz, FUSIOND_BENCH_DAEMON_S for another length): the simulator publishes every
 * sensor at three times real time through the embedded broker; the daemon (in-process, exactly as
 * `fusiond run` composes it, with the shipped default model) ingests, aligns, decides, publishes and
 * records. Reported: heap after GC at the start and every 10 s (flat = bounded queues), drops counted
 * by reason, and decisions/s beside the camera frames/s offered (the baseline: what came in).
 * Real cameras (issue 16, nominal rate only): FUSIOND_BENCH_DAEMON_CAMERAS=front,rear,left,right and
 * FUSIOND_BENCH_DAEMON_CAMERA_SIZE=1280x720 have the simulator publish that camera set (the daemon is told the
 * same cameras, the first the reference); FUSIOND_BENCH_DAEMON_LATENCY scales the simulator's modelled
 * transport latency (`fusiond sim --sensor-latency`; 0 = every sample sent at its capture stamp, as a foreign
 * publisher that stamps on send does — what the issue's measurement did), so that sensor-to-decision shows what
 * the daemon adds rather than what the simulated network does.
 * FUSIOND_BENCH_DAEMON_NO_WAIT=gnss,ego,radar sets the aligner's noWaitFor. Logged per decision: where
 * sensor-to-decision goes (transport, the aligner's wait, decide) and which input the frame waited for last —
 * the waits are structural (sensor phases, tolerances) and do not depend on the CPU; decide does.
 * FUSIOND_BENCH_DAEMON_BACKEND picks the model's backend (one per process: compare two runs back to back).
 * FUSIOND_BENCH_DAEMON_BROKER=mqtt://HOST:PORT uses that broker; =mosquitto starts a private Mosquitto with the
 * configuration docs/deployment.md recommends (set_tcp_nodelay true).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver, monitorEventLoopDelay, performance } from "node:perf_hooks";
import { pino } from "pino";
import { parseDaemonConfig } from "../pipeline/daemon-config.ts";
import { TopicRegistry } from "../schemas/index.ts";
import { EmbeddedBroker, MqttTransport, SensorSink } from "../sensors/index.ts";
import { randomScenario } from "../sim/scenario.ts";
import { startDaemon } from "../bin/daemon/daemon.ts";
import { shippedModels } from "../bin/daemon/shipped-models.ts";
import { chooseModel } from "../pipeline/model-choice.ts";
import { wallNs } from "../sensors/wall-clock.ts";
import { schedulingPolicyOf } from "../bin/daemon/realtime.ts";
import { startLiveSim } from "../sim/live.ts";
import type { BenchSuite } from "./harness.ts";

const RATE = Number(process.env["FUSIOND_BENCH_DAEMON_RATE"] ?? 3);
const CAMERAS = process.env["FUSIOND_BENCH_DAEMON_CAMERAS"]?.split(",").map((c) => c.trim()).filter(Boolean);
const CAMERA_SIZE = process.env["FUSIOND_BENCH_DAEMON_CAMERA_SIZE"];
const LATENCY = process.env["FUSIOND_BENCH_DAEMON_LATENCY"];
/** FUSIOND_BENCH_DAEMON_CAMERA_HZ=30: the cameras' frame rate (`fusiond sim --camera-hz`; default 20). */
const CAMERA_HZ = process.env["FUSIOND_BENCH_DAEMON_CAMERA_HZ"];
/** FUSIOND_BENCH_DAEMON_NO_WAIT=gnss,ego,radar: the aligner's noWaitFor (default the daemon's, gnss,ego). */
const NO_WAIT = process.env["FUSIOND_BENCH_DAEMON_NO_WAIT"]?.split(",").map((c) => c.trim()).filter(Boolean);
/**
 * FUSIOND_BENCH_DAEMON_RADAR_SCAN=latest: the aligner's radarScan (the latest scan at or before the camera, never
 * waited for, moved to its stamp: extrapolate gnss,ego,radar) whatever the model was trained on; default the model's.
 */
const RADAR_SCAN = process.env["FUSIOND_BENCH_DAEMON_RADAR_SCAN"];
if (RADAR_SCAN !== undefined && RADAR_SCAN !== "latest" && RADAR_SCAN !== "nearest") throw new Error(`FUSIOND_BENCH_DAEMON_RADAR_SCAN is latest or nearest, not ${RADAR_SCAN}`);

/**
 * Issue 16's sensor-to-decision goals, by camera set: 4 × 1280×720 @ 20 Hz p50 ≤ 25 ms and p99 ≤ 40 ms; 1 × 1920×1080
 * @ 30 Hz p99 ≤ 40 ms; today's 1 × 64×64 p99 ≤ 25 ms. They are about what the daemon adds (the issue timed from the
 * publish of an instant's last input): with the simulator's modelled transport (FUSIOND_BENCH_DAEMON_LATENCY not 0:
 * camera 25–45 ms) they apply to sensor-to-decision less the reference camera's transport, the "daemon's part".
 */
function sensorGoals(): { p50?: string; p99?: string; on: "sensor-to-decision" | "daemon's part" } {
  const on = LATENCY === "0" ? "sensor-to-decision" : "daemon's part";
  const size = CAMERA_SIZE ?? "64x64";
  const set = `${CAMERAS?.length ?? 1} × ${size.replace("x", "×")}`;
  if ((CAMERAS?.length ?? 1) > 1) return { p50: `≤ 25 ms (#16, ${set})`, p99: `≤ 40 ms (#16, ${set})`, on };
  const rate = `${set} @ ${CAMERA_HZ ?? 20} Hz`;
  if (size !== "64x64") return { p99: `≤ 40 ms (#16, ${rate === "1 × 1920×1080 @ 30 Hz" ? rate : `${rate}; the issue's: 1 × 1920×1080 @ 30 Hz`})`, on };
  return { p99: `≤ 25 ms (#16, 1 × 64×64)`, on };
}
const WALL_S = Number(process.env["FUSIOND_BENCH_DAEMON_S"] ?? 60);
/**
 * Steady state starts this many seconds after the first decision: the first frames after start pay for the
 * JIT of the receive, align, record and publish paths (the warm-up decides synthetic frames, but outside the
 * pipeline), and the simulator process starting beside the daemon (node + tsx compiling) takes both cores.
 */
const SETTLE_S = Number(process.env["FUSIOND_BENCH_DAEMON_SETTLE_S"] ?? 5);

/** Heap in use after a forced GC (a 25–30 ms pause) — or, with gc false, as it is. */
const heapMiB = (gc = true): number => {
  if (gc) (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

/** A private Mosquitto (the `mosquitto` binary, Debian's package) with Nagle off, as docs/deployment.md configures it. */
async function startPrivateMosquitto(log: (line: string) => void): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const p = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const conf = join(mkdtempSync(join(tmpdir(), "fusiond-bench-mosquitto-")), "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n`);
  const child = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const spawnError = new Promise<never>((_, reject) => child.once("error", (e) => reject(new Error(`FUSIOND_BENCH_DAEMON_BROKER=mosquitto: cannot start mosquitto (${e.message}); install Debian's mosquitto package or name a broker URL`))));
  for (let i = 0; ; i++) {
    const up = await Promise.race([spawnError, new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    })]);
    if (up) break;
    if (i >= 50 || child.exitCode !== null) throw new Error(`mosquitto did not start on port ${port}: ${stderr.trim() || `exit ${child.exitCode}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`private mosquitto on 127.0.0.1:${port} (set_tcp_nodelay true)`);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      if (child.exitCode === null) await new Promise((r) => child.once("exit", r));
    },
  };
}

const suite: BenchSuite = {
  name: "daemon",
  description: `fusiond run under ${RATE}× nominal sensor rates for ${WALL_S} s: heap stays flat, drops are counted, frame-to-decision latency`,
  async run(log) {
    // The model `fusiond run` chooses for the camera set when none is named (models/multi-camera for the
    // simulator's four cameras, models/default for one), unless FUSIOND_BENCH_MODEL names one.
    const choice = chooseModel(CAMERAS, shippedModels());
    const model = process.env["FUSIOND_BENCH_MODEL"] ?? choice.dir;
    if (!existsSync(join(model, "model.json"))) throw new Error(`${model} is missing: the daemon bench needs the shipped model`);
    log(`model ${model}${process.env["FUSIOND_BENCH_MODEL"] ? " (FUSIOND_BENCH_MODEL)" : ` (chosen: ${choice.why})`}`);
    const dir = mkdtempSync(join(tmpdir(), "fusiond-bench-daemon-"));
    // FUSIOND_BENCH_DAEMON_BROKER=mqtt://127.0.0.1:1883 uses an external broker (e.g. Mosquitto) instead of the
    // embedded one, which otherwise shares the daemon's event loop; =mosquitto starts a private Mosquitto on a
    // free loopback port configured as docs/deployment.md says (set_tcp_nodelay true), and stops it at the end.
    const external = process.env["FUSIOND_BENCH_DAEMON_BROKER"];
    const broker = external === "mosquitto" ? await startPrivateMosquitto(log) : external ? { url: external, stop: async () => {} } : await EmbeddedBroker.start();
    const vehicleSuffix = external ? `-${process.pid}` : "";
    const vehicle = `bench${vehicleSuffix}`;
    const registry = new TopicRegistry(vehicle);
    if ((CAMERAS || CAMERA_SIZE || LATENCY || CAMERA_HZ) && RATE !== 1) throw new Error("FUSIOND_BENCH_DAEMON_CAMERAS/_CAMERA_SIZE/_CAMERA_HZ/_LATENCY need FUSIOND_BENCH_DAEMON_RATE=1 (the simulator in its own process)");
    const config = parseDaemonConfig({
      vehicle,
      ...(CAMERAS || NO_WAIT || RADAR_SCAN
        ? { aligner: { ...(CAMERAS ? { cameras: CAMERAS } : {}), ...(NO_WAIT ? { noWaitFor: NO_WAIT } : {}), ...(RADAR_SCAN ? { radarScan: RADAR_SCAN, ...(RADAR_SCAN === "latest" ? { extrapolate: ["gnss", "ego", "radar"] } : {}) } : {}) } }
        : {}),
      ...(CAMERAS ? { sensors: [...CAMERAS.map((c) => `camera/${c}`), "radar/front", "gnss/main", "voice/cabin"] } : {}),
      mqtt: { url: broker.url, protocolVersion: 4 },
      // FUSIOND_BENCH_DAEMON_BACKEND=onnx|wasm|...: the model's backend (default auto, as `fusiond run`).
      model: { dir: model, ...(process.env["FUSIOND_BENCH_DAEMON_BACKEND"] ? { backend: process.env["FUSIOND_BENCH_DAEMON_BACKEND"] } : {}) },
      ...(process.env["FUSIOND_BENCH_DAEMON_RECORD"] === "0" ? {} : { recording: { dir, compression: "zstd" as const } }),
      http: { listen: "off" },
      // FUSIOND_BENCH_DAEMON_RT=N: the daemon's main thread SCHED_FIFO at priority N (`--realtime-priority N`).
      ...(process.env["FUSIOND_BENCH_DAEMON_RT"] ? { realtime: { priority: Number(process.env["FUSIOND_BENCH_DAEMON_RT"]) } } : {}),
    });
    const daemon = await startDaemon({ config, logger: pino({ level: "silent" }) });
    const policy = schedulingPolicyOf(process.pid);
    if (config.realtime && policy !== "fifo") throw new Error(`FUSIOND_BENCH_DAEMON_RT=${config.realtime.priority}: the main thread could not be made SCHED_FIFO (needs CAP_SYS_NICE)`);
    const client = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, now: wallNs, registry });
    const scenario = { ...randomScenario(11, WALL_S * RATE, "bench-3x"), weather: ["clear" as const] };
    // At 3× speed the stamps run ahead of the wall clock by 2 s per second; starting them in the past
    // keeps them within validation's ±60 s clock-skew limit for the whole run.
    const startNs = wallNs() - BigInt(Math.round(((RATE - 1) * WALL_S * 1e9) / 2));
    // At the nominal rate the simulator runs in its own process, as it would beside a vehicle's daemon, so
    // that its rendering does not sit on the daemon's event loop and in its latency.
    const child =
      RATE === 1
        ? spawn(process.execPath, [join(process.cwd(), "bin/fusiond.js"), "sim", "--mqtt", broker.url, "--vehicle", vehicle, "--seed", "11", "--duration", String(WALL_S), "--driver", "expert", "--quiet", "--json", ...(CAMERAS ? ["--cameras", CAMERAS.join(",")] : []), ...(CAMERA_SIZE ? ["--camera-size", CAMERA_SIZE] : []), ...(CAMERA_HZ ? ["--camera-hz", CAMERA_HZ] : []), ...(LATENCY ? ["--sensor-latency", LATENCY] : [])], { stdio: ["ignore", "pipe", "inherit"] })
        : undefined;
    const sim = child
      ? {
          done: new Promise<{ durationS: number }>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
            child.on("close", (code) => (code === 0 ? resolve({ durationS: WALL_S, ...(JSON.parse(out || "{}") as object) }) : reject(new Error(`fusiond sim exited ${code}`))));
          }),
        }
      : startLiveSim({ sink: new SensorSink(client, { registry }), scenario, vehicle, driver: "expert", speed: RATE, startNs, statusEveryMs: 60_000 });
    // Frame-to-decision: from the last input a frame needed arriving to its decision (DrivingDecision.latency_ms).
    const latencyMs: number[] = [];
    const steadyMs: number[] = [];
    // Sensor-to-decision: from the frame's capture stamp (the camera's exposure time) to its decision — what a user sees.
    const sensorMs: number[] = [];
    // The camera stamps decided: the instants decided after the first SETTLE_S s of stamps (the start apart).
    const decidedStamps: bigint[] = [];
    let firstDecisionMs: number | undefined;
    const slowest: { ms: number; from: number; what: string }[] = [];
    // Where sensor-to-decision goes, per decision (CPU-independent where it is waiting): transport (the reference
    // camera's receive − its stamp), the aligner's wait (frame emitted − reference received), decide (decision −
    // frame emitted); and which input the frame waited for last (the one received last), with how long after the reference.
    const parts = { transport: [] as number[], wait: [] as number[], decide: [] as number[] };
    const lastBy: Record<string, { n: number; afterRefMs: number[] }> = {};
    // Where the tail comes from: GC pauses (V8's own record of each) that overlap a decision's interval.
    const gcs: { start: number; end: number; kind: string }[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration, kind: String(((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? "") });
    });
    gcObserver.observe({ entryTypes: ["gc"] });
    const originMs = performance.timeOrigin;
    // Stalls of the daemon's event loop (anything that holds the main thread: a chunk's compression, GC, a long
    // callback) delay every input behind them; 1 ms resolution.
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const decided: { from: number; to: number; ms: number }[] = [];
    // perf_hooks' NODE_PERFORMANCE_GC_* flags.
    const GC_KIND: Record<string, string> = { "1": "minor", "4": "major", "8": "incremental", "16": "weak callbacks" };
    const gcIn = (from: number, to: number): { ms: number; kinds: string } => {
      let ms = 0;
      const kinds = new Set<string>();
      for (const g of gcs) if (g.end > from && g.start < to) (ms += Math.min(g.end, to) - Math.max(g.start, from)), kinds.add(GC_KIND[g.kind] ?? g.kind);
      return { ms, kinds: [...kinds].join("+") };
    };
    // Where else the tail can come from: the main thread waiting for a core (Linux schedstat: ns on CPU, ns
    // runnable but waiting on the run queue). Read at each decision; the delta covers the time since the previous one.
    // Wall time in neither is time the host took this VM's vCPU away (steal; the guest's clock excludes it).
    const schedPath = `/proc/self/task/${process.pid}/schedstat`;
    const readSched = (): [number, number] | undefined => {
      try {
        const [cpu, wait] = readFileSync(schedPath, "utf8").split(" ").map(Number);
        return [cpu! / 1e6, wait! / 1e6];
      } catch {
        return undefined;
      }
    };
    let prevSched = readSched();
    // The hypervisor's share: steal time of all CPUs over the run (/proc/stat, USER_HZ ticks of 10 ms).
    const stealMs = (): number | undefined => {
      try {
        const ticks = Number(readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/)[8]);
        return Number.isFinite(ticks) ? ticks * 10 : undefined;
      } catch {
        return undefined;
      }
    };
    const steal0 = stealMs();
    const latencySub = daemon.pipeline.decisions$.subscribe((d) => {
      const sched = readSched();
      const schedNote = sched && prevSched ? `, since previous: on CPU ${(sched[0] - prevSched[0]).toFixed(2)} ms, run-queue wait ${(sched[1] - prevSched[1]).toFixed(2)} ms` : "";
      prevSched = sched;
      const ms = Number(d.latencyNs) / 1e6;
      latencyMs.push(ms);
      sensorMs.push(Number(d.decidedNs - d.frame.stampNs) / 1e6);
      decidedStamps.push(d.frame.stampNs);
      firstDecisionMs ??= performance.now();
      if (performance.now() - firstDecisionMs >= SETTLE_S * 1000) steadyMs.push(ms);
      const f = d.frame;
      const ref = f.slots.camera;
      if (ref) {
        parts.transport.push(Number(ref.receiveNs - f.stampNs) / 1e6);
        parts.wait.push(Number(f.emittedNs - ref.receiveNs) / 1e6);
        parts.decide.push(Number(d.decidedNs - f.emittedNs) / 1e6);
        const inputs: [string, bigint][] = [...Object.entries(f.slots).map(([k, sl]) => [k, sl?.receiveNs ?? 0n] as [string, bigint]), ...Object.entries(f.cameras ?? {}).map(([k, sl]) => [k.slice(k.lastIndexOf("/") + 1), sl?.receiveNs ?? 0n] as [string, bigint])];
        const [lm, lns] = inputs.reduce((a, b) => (b[1] > a[1] ? b : a));
        const e = (lastBy[lm] ??= { n: 0, afterRefMs: [] });
        e.n++;
        e.afterRefMs.push(Number(lns - ref.receiveNs) / 1e6);
      }
      const from = Number(f.lastInputReceiveNs) / 1e6 - originMs;
      decided.push({ from, to: from + ms, ms });
      const last = Object.entries(f.slots).reduce((a, [m, sl]) => (sl && sl.receiveNs > a.ns ? { m, ns: sl.receiveNs } : a), { m: "", ns: 0n });
      slowest.push({ ms, from, what: `seq ${f.seq}: last input ${last.m}, voice ${f.present.voice ? "yes" : "no"}, emitted +${(Number(f.emittedNs - f.lastInputReceiveNs) / 1e6).toFixed(2)} ms, inference ${d.decision.inference_ms.toFixed(2)} ms${schedNote}` });
      slowest.sort((x, y) => y.ms - x.ms);
      slowest.length = Math.min(slowest.length, Number(process.env["FUSIOND_BENCH_SLOWEST"] ?? 8));
    });
    const samples: number[] = [heapMiB()];
    // CPU the daemon process spends (main thread, camera workers, broker, recorder) per reference frame, against
    // the frame period: what decides whether the camera rate can be kept up on a quiet machine, read even under load.
    const cpu0 = process.cpuUsage();
    log(`heap at start ${samples[0]!.toFixed(1)} MiB`);
    const t0 = Date.now();
    const timer = setInterval(() => {
      // At the nominal rate the run measures latency: no forced GC pause in the middle of it.
      samples.push(heapMiB(RATE !== 1));
      const m = daemon.pipeline.metrics();
      log(`t=${((Date.now() - t0) / 1000).toFixed(0)} s  heap ${samples.at(-1)!.toFixed(1)} MiB  messages ${m.messagesIn}  frames ${m.frames}  decisions ${m.decisions}  drops ${m.dropsTotal}`);
    }, 10_000);
    const score = await sim.done;
    clearInterval(timer);
    const steal1 = stealMs();
    if (steal0 !== undefined && steal1 !== undefined) log(`steal (the hypervisor running something else on this VM's CPUs), all CPUs over the run: ${steal1 - steal0} ms`);
    latencySub.unsubscribe();
    gcObserver.disconnect();
    loopDelay.disable();
    log(`event loop delay (the main thread held up): p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} max ${(loopDelay.max / 1e6).toFixed(1)} ms`);
    const gcNote = (from: number, ms: number): string => {
      const g = gcIn(from, from + ms);
      return g.ms > 0 ? `, GC ${g.ms.toFixed(2)} ms ${g.kinds}` : "";
    };
    log(`slowest decisions: ${slowest.map((x) => `${x.ms.toFixed(2)} ms (${x.what}${gcNote(x.from, x.ms)})`).join("; ")}`);
    {
      const sorted = [...decided].sort((a, b) => a.ms - b.ms);
      const tail = sorted.slice(Math.floor(0.99 * sorted.length));
      const withGc = tail.filter((x) => gcIn(x.from, x.to).ms > 0);
      const allGc = decided.filter((x) => gcIn(x.from, x.to).ms > 0).length;
      const gcMs = gcs.reduce((a, g) => a + (g.end - g.start), 0);
      log(`GC: ${gcs.length} pauses, ${gcMs.toFixed(0)} ms in all; ${withGc.length} of the ${tail.length} decisions at or above p99 overlapped one (${allGc} of all ${decided.length})`);
    }
    {
      const qs = (xs: number[]): string => {
        const s = [...xs].sort((a, b) => a - b);
        const at = (p: number): string => (s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN).toFixed(1);
        return `p50 ${at(0.5)} p99 ${at(0.99)} max ${at(1)} ms`;
      };
      log(`sensor-to-decision by part: transport (reference camera received − stamp) ${qs(parts.transport)}; aligner wait (frame emitted − reference received) ${qs(parts.wait)}; decide (decision − frame emitted) ${qs(parts.decide)}`);
      log(`the input received last: ${Object.entries(lastBy).map(([m, e]) => `${m} ${e.n}× (after the reference ${qs(e.afterRefMs)})`).join("; ")}`);
    }
    latencyMs.sort((a, b) => a - b);
    steadyMs.sort((a, b) => a - b);
    sensorMs.sort((a, b) => a - b);
    const quantile = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
    const q = (p: number): number => quantile(latencyMs, p);
    const wallS = (Date.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const m = daemon.pipeline.metrics();
    samples.push(heapMiB());
    await daemon.stop("bench");
    await client.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
    const byReason: Record<string, number> = {};
    // Keyed by stage/reason and the sensor (kind/id: the topic's last two parts).
    for (const d of m.drops) {
      const key = `${d.stage}/${d.reason}${d.topic ? ` ${d.topic.split("/").slice(-2).join("/")}` : ""}`;
      byReason[key] = (byReason[key] ?? 0) + d.count;
    }
    log(`drops by stage/reason and sensor: ${JSON.stringify(byReason)}`);
    log(`simulated ${score.durationS.toFixed(0)} s in ${wallS.toFixed(0)} s wall; heap samples ${samples.map((s) => s.toFixed(1)).join(" ")} MiB`);
    const mid = samples[Math.floor(samples.length / 2)]!;
    const cameraOffered = m.topics[registry.topicFor("camera", CAMERAS?.[0] ?? "front")]?.in ?? 0;
    const goals = RATE === 1 ? sensorGoals() : undefined;
    const goalOn = (row: "sensor-to-decision" | "daemon's part", p: "p50" | "p99"): { goal?: string } => (goals && goals.on === row && goals[p] ? { goal: goals[p] } : {});
    // The daemon's part: sensor-to-decision less the reference camera's transport (aligner wait + decide).
    const daemonPart = parts.wait.map((w, i) => w + parts.decide[i]!);
    return [
      { name: "heap after GC, end of run", value: samples.at(-1)!, unit: "MiB", baseline: { name: "heap after GC, mid-run", value: mid }, lowerIsBetter: true, goal: "flat (ratio ≈ 1)" },
      { name: "decisions/s", value: m.decisions / wallS, unit: "/s", baseline: { name: "camera frames offered/s", value: cameraOffered / wallS }, goal: "drops counted, not queued" },
      { name: "instants decided", value: cameraOffered ? (100 * m.decisions) / cameraOffered : NaN, unit: "%", note: `${m.decisions} decisions of ${cameraOffered} reference camera frames`, ...(RATE === 1 ? { goal: "≥ 99.5% (#16)" } : {}) },
      { name: `instants decided after the first ${SETTLE_S} s`, ...steadyDecided(decidedStamps, Number(CAMERA_HZ ?? 20 * RATE), SETTLE_S), unit: "%" },
      { name: "daemon CPU per reference frame", value: cameraOffered ? (cpu.user + cpu.system) / 1000 / cameraOffered : NaN, unit: "ms", lowerIsBetter: true, baseline: { name: "frame period", value: 1000 / Number(CAMERA_HZ ?? 20 * RATE) }, note: "all threads of the bench process (daemon, camera workers, embedded broker, recorder); the simulator runs in its own" },
      { name: "messages in/s", value: m.messagesIn / wallS, unit: "/s", note: `${m.dropsTotal} drops counted` },
      { name: "drops counted", value: m.dropsTotal, unit: "msgs" },
      { name: "sensor-to-decision p50", value: quantile(sensorMs, 0.5), unit: "ms", lowerIsBetter: true, baseline: { name: "frame-to-decision p50 (after the last input)", value: q(0.5) }, note: "capture stamp → decision", ...goalOn("sensor-to-decision", "p50") },
      { name: "sensor-to-decision p99", value: quantile(sensorMs, 0.99), unit: "ms", lowerIsBetter: true, baseline: { name: "frame-to-decision p99", value: q(0.99) }, ...goalOn("sensor-to-decision", "p99") },
      { name: "daemon's part p50 (aligner wait + decide)", value: quantile([...daemonPart].sort((a, b) => a - b), 0.5), unit: "ms", lowerIsBetter: true, baseline: { name: "aligner wait p50", value: quantile([...parts.wait].sort((a, b) => a - b), 0.5) }, note: "sensor-to-decision less the reference camera's transport", ...goalOn("daemon's part", "p50") },
      { name: "daemon's part p99", value: quantile([...daemonPart].sort((a, b) => a - b), 0.99), unit: "ms", lowerIsBetter: true, baseline: { name: "aligner wait p99", value: quantile([...parts.wait].sort((a, b) => a - b), 0.99) }, note: `aligner noWaitFor ${(config.aligner.noWaitFor ?? ["gnss", "ego"]).join(",")}`, ...goalOn("daemon's part", "p99") },
      { name: "frame-to-decision p50", value: q(0.5), unit: "ms", lowerIsBetter: true, note: `${latencyMs.length} decisions at ${RATE}× the nominal 20 Hz` },
      { name: "frame-to-decision p99, all decisions", value: q(0.99), unit: "ms", lowerIsBetter: true, note: "the first frames after start included" },
      { name: `frame-to-decision p50, after the first ${SETTLE_S} s`, value: quantile(steadyMs, 0.5), unit: "ms", lowerIsBetter: true, note: `${steadyMs.length} decisions` },
      { name: `frame-to-decision p99, after the first ${SETTLE_S} s`, value: quantile(steadyMs, 0.99), unit: "ms", lowerIsBetter: true, note: `main thread ${policy === "fifo" ? `SCHED_FIFO ${config.realtime?.priority}` : "normal priority"}`, ...(RATE === 1 ? { goal: "≤ 5 ms at 20 Hz (steady)" } : {}) },
    ];
  },
};
export default suite;

/**
 * Of the camera instants from SETTLE_S s after the first decided one to the last decided one (one every camera
 * period), the share decided: the start — the simulator's and the daemon's first seconds on the same cores — apart.
 */
function steadyDecided(stamps: readonly bigint[], hz: number, settleS: number): { value: number; note: string } {
  const sorted = [...new Set(stamps)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sorted.length === 0 || !(hz > 0)) return { value: NaN, note: "no decisions" };
  const from = sorted[0]! + BigInt(Math.round(settleS * 1e9));
  const window = sorted.filter((t) => t >= from);
  if (window.length === 0) return { value: NaN, note: "no decisions after the start" };
  const expected = Math.round((Number(window[window.length - 1]! - window[0]!) / 1e9) * hz) + 1;
  return { value: (100 * window.length) / expected, note: `${window.length} of ${expected} camera instants (${hz} Hz) from ${settleS} s after the first decision` };
}
