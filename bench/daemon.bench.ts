/**
 * The daemon under 3× the nominal sensor rates for 60 s (issue 8): the simulator publishes every
 * sensor at three times real time through the embedded broker; the daemon (in-process, exactly as
 * `fusiond run` composes it, with the shipped default model) ingests, aligns, decides, publishes and
 * records. Reported: heap after GC at the start and every 10 s (flat = bounded queues), drops counted
 * by reason, and decisions/s beside the camera frames/s offered (the baseline: what came in).
 */
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { parseDaemonConfig } from "../pipeline/daemon-config.ts";
import { TopicRegistry } from "../schemas/index.ts";
import { EmbeddedBroker, MqttTransport, SensorSink } from "../sensors/index.ts";
import { randomScenario } from "../sim/scenario.ts";
import { startDaemon } from "../bin/daemon/daemon.ts";
import { wallNs } from "../bin/daemon/clock.ts";
import { startLiveSim } from "../bin/sim-live.ts";
import type { BenchSuite } from "./harness.ts";

const RATE = 3;
const WALL_S = Number(process.env["FUSIOND_BENCH_DAEMON_S"] ?? 60);

const heapMiB = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

const suite: BenchSuite = {
  name: "daemon",
  description: `fusiond run under ${RATE}× nominal sensor rates for ${WALL_S} s: heap stays flat, drops are counted`,
  async run(log) {
    const model = process.env["FUSIOND_BENCH_MODEL"] ?? (existsSync("models/default/model.json") ? "models/default" : undefined);
    if (!model) throw new Error("models/default is missing: the daemon bench needs the shipped model");
    const dir = mkdtempSync(join(tmpdir(), "fusiond-bench-daemon-"));
    const broker = await EmbeddedBroker.start();
    const vehicle = "bench";
    const registry = new TopicRegistry(vehicle);
    const config = parseDaemonConfig({
      vehicle,
      mqtt: { url: broker.url, protocolVersion: 4 },
      model: { dir: model },
      recording: { dir, compression: "zstd" },
      http: { listen: "off" },
    });
    const daemon = await startDaemon({ config, logger: pino({ level: "silent" }) });
    const client = await MqttTransport.connect({ url: broker.url, protocolVersion: 4, now: wallNs, registry });
    const scenario = { ...randomScenario(11, WALL_S * RATE, "bench-3x"), weather: ["clear" as const] };
    // At 3× speed the stamps run ahead of the wall clock by 2 s per second; starting them in the past
    // keeps them within validation's ±60 s clock-skew limit for the whole run.
    const startNs = wallNs() - BigInt(Math.round(((RATE - 1) * WALL_S * 1e9) / 2));
    const sim = startLiveSim({ sink: new SensorSink(client, { registry }), scenario, vehicle, driver: "expert", speed: RATE, startNs, statusEveryMs: 60_000 });
    const samples: number[] = [heapMiB()];
    log(`heap at start ${samples[0]!.toFixed(1)} MiB`);
    const t0 = Date.now();
    const timer = setInterval(() => {
      samples.push(heapMiB());
      const m = daemon.pipeline.metrics();
      log(`t=${((Date.now() - t0) / 1000).toFixed(0)} s  heap ${samples.at(-1)!.toFixed(1)} MiB  messages ${m.messagesIn}  frames ${m.frames}  decisions ${m.decisions}  drops ${m.dropsTotal}`);
    }, 10_000);
    const score = await sim.done;
    clearInterval(timer);
    const wallS = (Date.now() - t0) / 1000;
    const m = daemon.pipeline.metrics();
    samples.push(heapMiB());
    await daemon.stop("bench");
    await client.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
    const byReason: Record<string, number> = {};
    for (const d of m.drops) byReason[`${d.stage}/${d.reason}`] = (byReason[`${d.stage}/${d.reason}`] ?? 0) + d.count;
    log(`drops by stage/reason: ${JSON.stringify(byReason)}`);
    log(`simulated ${score.durationS.toFixed(0)} s in ${wallS.toFixed(0)} s wall; heap samples ${samples.map((s) => s.toFixed(1)).join(" ")} MiB`);
    const mid = samples[Math.floor(samples.length / 2)]!;
    const cameraOffered = m.topics[registry.topicFor("camera", "front")]?.in ?? 0;
    return [
      { name: "heap after GC, end of run", value: samples.at(-1)!, unit: "MiB", baseline: { name: "heap after GC, mid-run", value: mid }, lowerIsBetter: true, goal: "flat (ratio ≈ 1)" },
      { name: "decisions/s", value: m.decisions / wallS, unit: "/s", baseline: { name: "camera frames offered/s", value: cameraOffered / wallS }, goal: "drops counted, not queued" },
      { name: "messages in/s", value: m.messagesIn / wallS, unit: "/s", note: `${m.dropsTotal} drops counted` },
      { name: "drops counted", value: m.dropsTotal, unit: "msgs" },
    ];
  },
};
export default suite;
