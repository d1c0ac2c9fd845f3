/**
 * `fusiond sim --mqtt URL | --zmq ENDPOINT [--lockstep]`: the simulator live (real time) or in lockstep with a
 * decider, over the transport the flags name; a status line on a terminal, the score and the run's figures at the end.
 */
import { map } from "rxjs";
import type { MapWeather } from "../../domain/road-map.ts";
import { TopicRegistry } from "../../schemas/topics.ts";
import { MqttTransport, SensorSink, SensorSource, ZmqSink, ZmqSource, type RawSink, type RawSource } from "../../sensors/index.ts";
import { episodeSummary } from "../../sim/dataset-writer.ts";
import type { SensorName } from "../../sim/episode.ts";
import { liveScenario } from "../../sim/live-scenario.ts";
import type { DecisionLike, MatchPolicy, TimeoutPolicy } from "../../sim/lockstep.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import type { CameraSetSpec } from "../../sim/sensors/camera-set.ts";
import { reportError, usage } from "../cli-errors.ts";
import { startLiveSim, wallClock, type LiveSimResult, type LiveStatus } from "../../sim/live.ts";

/** The flags of `fusiond sim` that live mode reads. */
export interface LiveFlags {
  vehicle: string;
  camera: string;
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
  /** --camera-workers: LiveSimOptions.cameraWorkers. */
  cameraWorkers: string;
  /** --sensor-latency: EpisodeOptions.latencyScale. */
  sensorLatency: string;
  quiet?: boolean;
}

export async function runLive(
  flags: LiveFlags,
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
    cameraWorkers: Number(flags.cameraWorkers ?? 1),
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
    process.stdout.write(episodeSummary(result) + "\n");
    const st = result.stats;
    process.stdout.write(
      `${st.mode}: ${st.steps} steps in ${st.wallS.toFixed(1)} s wall, ${st.published} messages published (${st.publishFailed} failed), ` +
        `${st.decisions} decisions, ${st.timeouts} timeouts, ${st.stale} stale${st.mode === "live" ? `, worst lag ${st.maxLagMs.toFixed(0)} ms` : ""}` +
        `${st.cameraDropped ? `, ${st.cameraDropped} camera frames dropped (encoding fell behind: ${JSON.stringify(st.cameraEncode?.dropped ?? {})})` : ""}` +
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
