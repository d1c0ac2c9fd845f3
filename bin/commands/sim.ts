/**
 * `fusiond sim`: the simulator alone.
 *   dataset:  fusiond sim --seed S --duration D --out FILE.mcap          (labelled episodes, as fast as the CPU allows)
 *   live:     fusiond sim --mqtt URL | --zmq ENDPOINT [--vehicle ID]     (real time, closed loop on vehicles/{v}/decision)
 *   lockstep: fusiond sim --mqtt URL --lockstep                          (one step per decision, docs/simulator.md)
 * The dataset file is deterministic: the same seed and options give the same bytes (no wall clock inside).
 * Live and lockstep run on bin/sim-live.ts; this file picks the transports, the wall clock and the signals.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { map } from "rxjs";
import type { MapWeather } from "../../domain/road-map.ts";
import { defaultCodec } from "../../schemas/codec.ts";
import { TopicRegistry } from "../../schemas/topics.ts";
import { recordToFile } from "../../replay/recorder.ts";
import { MqttTransport, SensorSink, SensorSource, ZmqSink, ZmqSource, type RawSink, type RawSource } from "../../sensors/index.ts";
import { datasetMessages } from "../../sim/dataset.ts";
import type { SensorName } from "../../sim/episode.ts";
import type { DecisionLike, MatchPolicy, TimeoutPolicy } from "../../sim/lockstep.ts";
import { hash32 } from "../../sim/rng.ts";
import { randomScenario, WEATHERS, type ScenarioSpec } from "../../sim/scenario.ts";
import { scenarioSuite } from "../../sim/scenarios.ts";
import type { EpisodeScore } from "../../sim/score.ts";
import { startLiveSim, wallClock, type LiveSimResult, type LiveStatus } from "../sim-live.ts";
import type { CameraSetSpec } from "../../sim/sensors/camera-set.ts";
import { CAMERA_SIZE_HELP, CAMERAS_HELP, cameraSetFromFlags } from "./camera-flags.ts";
import { EXIT_USAGE } from "./types.ts";
import { usage, reportError } from "../cli-errors.ts";
import { listOf, number, oneOf } from "../cli-validate.ts";
import { reportStream, writeAtomically } from "../output-file.ts";

interface SimFlags {
  seed: string;
  duration?: string;
  out?: string;
  vehicle: string;
  camera: string;
  cameras?: string;
  cameraSize?: string;
  sensorLatency: string;
  sensors: string;
  episode: string;
  perturb: string;
  scenario?: string;
  weather?: string;
  compression: string;
  json?: boolean;
  mqtt?: string;
  zmq?: string;
  zmqConnect?: boolean;
  zmqDecisions?: string;
  lockstep?: boolean;
  timeout: string;
  onTimeout: string;
  match: string;
  driver: string;
  speed: string;
  quiet?: boolean;
}

const ALL_SENSORS: SensorName[] = ["camera", "radar", "gnss", "ego", "voice"];

export default function register(program: Command): void {
  program
    .command("sim")
    .description("the simulator alone: write a labelled dataset to MCAP, or publish sensors over MQTT/ZeroMQ (real time or lockstep)")
    .option("--seed <n>", "seed of the drive", number({ integer: true, min: 0 }), "1")
    .option("--duration <s>", "simulated seconds (default 60; with --scenario in live mode, the scenario's own)", number({ gt: 0 }))
    .option("--out <file.mcap>", "dataset mode: write every topic, ground truth and expert label to this MCAP file (- for stdout)")
    .option("--vehicle <id>", "vehicle id in topic names", "sim")
    .option("--camera <format>", "camera output: jpeg (CompressedImage) or raw (RawImage rgb8)", oneOf(["jpeg", "raw"]), "jpeg")
    .option("--cameras <list>", CAMERAS_HELP)
    .option("--camera-size <WxH>", CAMERA_SIZE_HELP)
    .option("--sensor-latency <scale>", "scale every sensor's modelled transport latency (camera 25–45 ms, radar 8–15, GNSS 60–110, ego 2–6, voice 20–40); 0: each message leaves at its capture stamp, as a publisher that stamps on send", number({ min: 0 }), "1")
    .option("--sensors <list>", "comma-separated sensors to model", listOf(ALL_SENSORS), ALL_SENSORS.join(","))
    .option("--episode <s>", "dataset mode: longest episode, s (episodes run back to back)", number({ gt: 0 }), "120")
    .option("--perturb <fraction>", "dataset mode: fraction of the drive (0–0.5) in which the ego holds a random KEEP/ACCELERATE/DECELERATE instead of the expert's, still labelled by the expert (training data that shows how to recover)", number({ min: 0, max: 0.5 }), "0")
    .option("--scenario <name>", "run a named scenario of the suite (see sim/scenarios.ts) instead of random ones")
    .option("--weather <list>", `weather segments along the route, in order (${WEATHERS.join(", ")}), e.g. fog or clear,night`)
    .option("--compression <c>", "MCAP chunk compression: zstd, lz4 or none", oneOf(["zstd", "lz4", "none"]), "zstd")
    .option("--json", "print the episode scores as JSON")
    .option("--mqtt <url>", "live mode over MQTT: publish the sensors, read vehicles/{v}/decision")
    .option("--zmq <endpoint>", "live mode over ZeroMQ: bind a PUB socket here for the sensors")
    .option("--zmq-connect", "with --zmq: connect the PUB socket instead of binding it")
    .option("--zmq-decisions <endpoint>", "with --zmq: SUB to the decider's PUB socket here (e.g. fusiond run --zmq-publish)")
    .option("--lockstep", "advance one step per decision (see docs/simulator.md)")
    .option("--timeout <ms>", "lockstep: wait per step; live: how long a decision stays in force", number({ gt: 0 }), "1000")
    .option("--on-timeout <policy>", "hold (keep the last command), stop (brake to a standstill) or abort", oneOf(["hold", "stop", "abort"]), "hold")
    .option("--match <policy>", "lockstep: match decisions to steps by frame stamp (stamp) or by arrival", oneOf(["stamp", "arrival"]), "stamp")
    .option("--driver <who>", "who drives the ego: decisions (closed loop) or expert (open loop, decisions only counted)", oneOf(["decisions", "expert"]), "decisions")
    .option("--speed <x>", "live mode: simulated seconds per wall second", number({ gt: 0 }), "1")
    .option("--quiet", "no status line")
    .addHelpText(
      "after",
      `
Examples:
  fusiond sim --seed 7 --duration 120 --out train-7.mcap                  # a labelled dataset (deterministic bytes)
  fusiond sim --scenario test-urban-fog-0 --out fog.mcap --compression lz4
  fusiond sim --mqtt mqtt://127.0.0.1:1883 --vehicle ego1                  # live, closed loop on vehicles/ego1/decision
  fusiond sim --mqtt mqtt://127.0.0.1:1883 --lockstep --timeout 500        # one step per decision (docs/simulator.md)
  fusiond sim --mqtt mqtt://127.0.0.1:1883 --driver expert --cameras front,rear,left,right --camera-size 1280x720 --sensor-latency 0`,
    )
    .action(async (flags: SimFlags) => {
      const sensors = flags.sensors.split(",").map((s) => s.trim()) as SensorName[];
      const weather = flags.weather?.split(",").map((w) => w.trim().toLowerCase()) as MapWeather[] | undefined;
      const badWeather = weather?.filter((w) => !WEATHERS.includes(w)) ?? [];
      const seed = Number(flags.seed);
      const durationS = flags.duration === undefined ? undefined : Number(flags.duration);
      if (badWeather.length) usage(`--weather must be a comma-separated list of ${WEATHERS.join(", ")}, not "${flags.weather}"`);
      const suite = flags.scenario ? scenarioSuite().filter((s) => s.name === flags.scenario) : undefined;
      if (flags.scenario && !suite?.length) {
        usage(`no scenario "${flags.scenario}"; known: ${scenarioSuite().map((s) => s.name).join(", ")}`);
      }
      const scenarios = suite && weather ? suite.map((s) => ({ ...s, weather })) : suite;
      const cams = cameraSetFromFlags(flags.cameras, flags.cameraSize);
      if ("error" in cams) usage(cams.error);
      if (flags.mqtt || flags.zmq) {
        await live(flags, seed, durationS, sensors, scenarios?.[0], weather, cams.set);
        return;
      }
      if (flags.lockstep) {
        usage("--lockstep needs a transport: --mqtt URL or --zmq ENDPOINT --zmq-decisions ENDPOINT");
      }
      if (!flags.out) {
        usage("give --out FILE.mcap (dataset mode), or --mqtt/--zmq (live mode)");
      }
      if (weather && !scenarios) {
        usage("in dataset mode --weather needs --scenario (random episodes draw their own weather)");
      }
      const perturb = Number(flags.perturb);
      if (!(perturb >= 0 && perturb <= 0.5)) {
        usage(`--perturb takes a fraction from 0 to 0.5, not "${flags.perturb}"`);
      }
      const scores = await writeAtomically(flags.out, (tmp) => writeDataset(tmp, seed, durationS ?? 60, {
        vehicle: flags.vehicle,
        sensors,
        cameraFormat: flags.camera as "jpeg" | "raw",
        ...(cams.set ? { cameraSet: cams.set } : {}),
        latencyScale: Number(flags.sensorLatency),
        episodeS: Number(flags.episode),
        perturb,
        compression: flags.compression as "zstd" | "lz4" | "none",
        ...(scenarios ? { scenarios } : {}),
      }));
      if (flags.json) reportStream(flags.out).write(JSON.stringify(scores, null, 2) + "\n");
      else for (const s of scores) reportStream(flags.out).write(summary(s) + "\n");
    });
}

/** The live scenario: the named one (duration overridden when given), else the one dataset mode draws first for this seed. */
export function liveScenario(seed: number, durationS: number | undefined, named?: ScenarioSpec, weather?: MapWeather[]): ScenarioSpec {
  const spec = named ? { ...named, durationS: durationS ?? named.durationS } : randomScenario(hash32(`${seed >>> 0}/episode/0`), durationS ?? 60, `live-${seed}`);
  return weather ? { ...spec, weather } : spec;
}

async function live(
  flags: SimFlags,
  seed: number,
  durationS: number | undefined,
  sensors: SensorName[],
  named: ScenarioSpec | undefined,
  weather: MapWeather[] | undefined,
  cameraSet: CameraSetSpec | undefined,
): Promise<void> {
  const policy = flags.onTimeout as TimeoutPolicy;
  const timeoutMs = Number(flags.timeout);
  const speed = Number(flags.speed);
  if (!["hold", "stop", "abort"].includes(policy)) return usage(`--on-timeout is hold, stop or abort, not "${flags.onTimeout}"`);
  if (!["stamp", "arrival"].includes(flags.match)) return usage(`--match is stamp or arrival, not "${flags.match}"`);
  if (!["decisions", "expert"].includes(flags.driver)) return usage(`--driver is decisions or expert, not "${flags.driver}"`);
  if (!(timeoutMs > 0) || !(speed > 0)) return usage("--timeout and --speed must be positive numbers");
  if (flags.mqtt && flags.zmq) return usage("give --mqtt or --zmq, not both");
  if (flags.zmq && !flags.zmqDecisions && (flags.lockstep || flags.driver === "decisions")) {
    return usage("with --zmq, give --zmq-decisions ENDPOINT (where the decider publishes), or --driver expert for open loop");
  }
  if (flags.lockstep && flags.driver === "expert") return usage("--lockstep waits for decisions: it cannot run with --driver expert");

  const registry = new TopicRegistry(flags.vehicle);
  const clientId = `fusiond-sim-${process.pid}`;
  let sink: RawSink;
  let source: RawSource | undefined;
  /** Everything to close at the end (MQTT: one connection for both directions). */
  let transports: { close(): Promise<void> }[];
  try {
    if (flags.mqtt) {
      const t = await MqttTransport.connect({ url: flags.mqtt, now: wallClock.nowNs, clientId });
      sink = t;
      source = t;
      transports = [t];
    } else {
      sink = await ZmqSink.open({ endpoint: flags.zmq!, mode: flags.zmqConnect ? "connect" : "bind", onFull: { waitMs: 1000 } });
      if (flags.zmqDecisions) source = new ZmqSource({ endpoint: flags.zmqDecisions, now: wallClock.nowNs, mode: "connect" });
      transports = source ? [source, sink] : [sink];
    }
  } catch (err) {
    // One error path (bin/cli-errors.ts): what went wrong and what to do, exit 1.
    process.exitCode = reportError(err, { command: "sim", json: false, verbose: false });
    return;
  }
  const decoderSource = source ? new SensorSource(source) : undefined;
  const decisions = decoderSource?.messages([registry.topicFor("decision")]).pipe(map((m) => m.message as DecisionLike));
  const scenario = liveScenario(seed, durationS, named, weather);
  const tty = process.stderr.isTTY;
  const sim = startLiveSim({
    sink: new SensorSink(sink),
    ...(decisions ? { decisions } : {}),
    scenario,
    vehicle: flags.vehicle,
    sensors,
    cameraFormat: flags.camera as "jpeg" | "raw",
    cameraSet,
    latencyScale: Number(flags.sensorLatency),
    driver: flags.driver as "decisions" | "expert",
    ...(flags.lockstep ? { lockstep: { timeoutMs, policy, match: flags.match as MatchPolicy } } : { decisionTimeoutMs: timeoutMs, policy }),
    speed,
    onStatus: (s) => {
      if (flags.quiet) return;
      // A TTY gets one line redrawn every second; a pipe or a log gets none (the summary comes at the end).
      if (tty) process.stderr.write(`\r${statusLine(s)}\u001b[K`);
    },
  });
  const where = flags.mqtt ?? `${flags.zmq}${flags.zmqDecisions ? ` (decisions from ${flags.zmqDecisions})` : ""}`;
  if (!flags.quiet) process.stderr.write(`fusiond sim: ${flags.lockstep ? "lockstep" : "live"} on ${where}, vehicle ${flags.vehicle}, scenario ${scenario.name} (${scenario.weather.join(",")}, ${scenario.durationS} s); Ctrl-C stops\n`);
  const onSignal = (): void => sim.stop();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let result: LiveSimResult | undefined;
  try {
    result = await sim.done;
  } catch (err) {
    process.stderr.write("\n");
    process.exitCode = reportError(err, { command: "sim", json: false, verbose: false });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    decoderSource?.close();
    for (const t of transports) await t.close();
  }
  if (!result) return;
  if (tty && !flags.quiet) process.stderr.write("\n");
  if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  else {
    process.stdout.write(summary(result) + "\n");
    const st = result.stats;
    process.stdout.write(
      `${st.mode}: ${st.steps} steps in ${st.wallS.toFixed(1)} s wall, ${st.published} messages published (${st.publishFailed} failed), ` +
        `${st.decisions} decisions, ${st.timeouts} timeouts, ${st.stale} stale${st.mode === "live" ? `, worst lag ${st.maxLagMs.toFixed(0)} ms` : ""}` +
        `${st.stopped ? ", stopped early" : ""}${st.aborted ? ", ABORTED (no decisions)" : ""}\n`,
    );
  }
  if (result.stats.aborted) process.exitCode = 1;
}

function statusLine(s: LiveStatus): string {
  return (
    `${s.mode} ${s.simS.toFixed(1)}/${s.durationS.toFixed(0)} s sim, step ${s.step}, ${s.published} sent` +
    `, v ${s.speedMps.toFixed(1)} m/s lane ${s.lane} ${s.action}, decisions ${s.decisions} (timeouts ${s.timeouts}, stale ${s.stale})` +
    `${s.mode === "live" ? `, lag ${s.lagMs.toFixed(0)} ms` : ""}, collisions ${s.collisions}`
  );
}

interface WriteOptions {
  vehicle: string;
  sensors: SensorName[];
  cameraFormat: "jpeg" | "raw";
  cameraSet?: CameraSetSpec;
  /** EpisodeOptions.latencyScale (default 1). */
  latencyScale?: number;
  episodeS: number;
  /** DatasetOptions.perturb. */
  perturb?: number;
  compression: "zstd" | "lz4" | "none";
  scenarios?: ReturnType<typeof scenarioSuite>;
}

/** Dataset mode: encode and record every message; returns the episode scores. */
export async function writeDataset(out: string, seed: number, durationS: number, o: WriteOptions): Promise<EpisodeScore[]> {
  const codec = defaultCodec();
  const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  const rec = await recordToFile(out, {
    compression: o.compression,
    library: `fusiond/${version} sim`,
    metadata: { vehicle: o.vehicle, source: "fusiond sim", seed: String(seed), durationS: String(durationS), sensors: o.sensors.join(","), camera: o.cameraFormat, ...(o.cameraSet ? { cameras: o.cameraSet.ids.join(","), cameraSize: `${o.cameraSet.width}x${o.cameraSet.height}` } : {}), ...(o.perturb ? { perturb: String(o.perturb) } : {}), ...(o.latencyScale !== undefined && o.latencyScale !== 1 ? { sensorLatency: String(o.latencyScale) } : {}) },
  });
  const gen = datasetMessages(seed, durationS, { vehicle: o.vehicle, sensors: o.sensors, cameraFormat: o.cameraFormat, ...(o.cameraSet ? { cameraSet: o.cameraSet } : {}), episodeS: o.episodeS, ...(o.perturb ? { perturb: o.perturb } : {}), ...(o.latencyScale !== undefined ? { latencyScale: o.latencyScale } : {}), ...(o.scenarios ? { scenarios: o.scenarios } : {}) });
  let n = 0;
  let r = gen.next();
  while (!r.done) {
    const m = r.value;
    rec.addMessage({ topic: m.topic, type: m.type, bytes: codec.encode(m.type, m.message), receiveNs: m.receiveNs, stampNs: m.stampNs });
    // Backpressure: as fast as the CPU allows, but no faster than the disk.
    if (++n % 2000 === 0 && rec.stats().queuedBytes > 8 * 1024 * 1024) await rec.flush();
    r = gen.next();
  }
  await rec.close();
  const dropped = rec.stats().dropped;
  if (Object.keys(dropped).length) throw new Error(`recorder dropped messages: ${JSON.stringify(dropped)}`);
  return r.value;
}

function summary(s: EpisodeScore): string {
  return (
    `${s.episodeId}: ${s.durationS.toFixed(1)} s, ${s.distanceM.toFixed(0)} m (route ${(100 * s.routeCompletion).toFixed(0)}%), ` +
    `collisions ${s.collisions}, near misses ${s.nearMisses}, stop-line violations ${s.stopLineViolations}/${s.stopLinesPassed}, ` +
    `speeding ${s.speedLimitViolations}, voice ${s.voiceComplied}/${s.voiceCommands}, jerk rms ${s.jerkRms.toFixed(2)} m/s³`
  );
}
