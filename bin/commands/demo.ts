/**
 * `fusiond demo` (what `npm start` runs): the embedded default, no setup. An in-process MQTT broker
 * (aedes) on a free port — or ZeroMQ sockets with --zmq —, the simulator publishing every sensor in
 * real time, the daemon with the shipped default model deciding in closed loop, a recording of the
 * session, a live status line, and a summary with the command that replays the recording.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { pino } from "pino";
import { map as rxMap } from "rxjs";
import type { DrivingDecision } from "../../fusion/index.ts";
import { parseDaemonConfig } from "../../pipeline/daemon-config.ts";
import { MessageDecoder, TopicRegistry } from "../../schemas/index.ts";
import type { MapWeather } from "../../domain/road-map.ts";
import { SensorSink, SensorSource } from "../../sensors/index.ts";
import type { DecisionLike } from "../../sim/lockstep.ts";
import { buildScenario, WEATHERS } from "../../sim/scenario.ts";
import { startDaemon } from "../daemon/daemon.ts";
import { startLiveSim, type LiveStatus } from "../../sim/live.ts";
import { liveScenario } from "../../sim/live-scenario.ts";
import { CAMERA_HZ_HELP, CAMERA_SIZE_HELP, CAMERAS_HELP, cameraSetFromFlags, simCameraSet } from "./camera-flags.ts";
import { EXIT_USAGE } from "./types.ts";
import { usage } from "../cli-errors.ts";
import { hostPort, number } from "../cli-validate.ts";
import { FUSIOND_VERSION } from "../version.ts";
import { p99, quantile, summaryText } from "./demo-summary.ts";
import { openDemoTransports } from "./demo-transports.ts";

interface DemoFlags {
  duration: string;
  weather?: string;
  seed: string;
  model: string;
  zmq?: boolean;
  out: string;
  http?: string;
  foxglove?: string;
  quiet?: boolean;
  json?: boolean;
  cameras?: string;
  cameraSize?: string;
  cameraHz?: string;
}

const VEHICLE = "demo";

/** A word the shell passes through as it is (quoted when it needs to be). */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export default function register(program: Command): void {
  program
    .command("demo")
    .description("the embedded default: in-process MQTT broker, the simulator, the daemon in closed loop, a recording, a summary")
    .option("--duration <s>", "simulated seconds, run in real time", number({ gt: 0 }), "60")
    .option("--weather <list>", `weather along the route (${WEATHERS.join(", ")}), e.g. fog or clear,night`)
    .option("--seed <n>", "scenario seed", number({ integer: true, min: 0 }), "1")
    .option("--model <dir>", "model directory", "models/default")
    .option("--zmq", "use ZeroMQ (tcp on 127.0.0.1) instead of the embedded MQTT broker")
    .option("--out <dir>", "where the recording goes", "recordings")
    .option("--http <host:port>", "serve /metrics /healthz /readyz here while the demo runs (default: off)", hostPort())
    .option("--foxglove <[host:]port>", "serve the Foxglove WebSocket live view (camera, GNSS map, radar, decisions, health), e.g. 8765")
    .option("--cameras <list>", CAMERAS_HELP)
    .option("--camera-size <WxH>", CAMERA_SIZE_HELP)
    .option("--camera-hz <n>", CAMERA_HZ_HELP)
    .option("--quiet", "no status line")
    .option("--json", "print the summary as JSON on stdout")
    .addHelpText(
      "after",
      `
Examples:
  npm start                                   # the same as: fusiond demo
  fusiond demo --duration 30 --weather fog    # a foggy drive: the camera is nearly blind, radar is not
  fusiond demo --zmq --seed 7
  fusiond demo --foxglove 8765                # watch it live in Foxglove (ws://127.0.0.1:8765)`,
    )
    .action(async (flags: DemoFlags) => {
      const durationS = Number(flags.duration);
      const seed = Number(flags.seed);
      const weather = flags.weather?.split(",").map((w) => w.trim().toLowerCase()) as MapWeather[] | undefined;
      const badWeather = weather?.filter((w) => !WEATHERS.includes(w)) ?? [];
      if (badWeather.length) usage(`--weather must be a comma-separated list of ${WEATHERS.join(", ")}, not "${flags.weather}"`);
      if (existsSync(flags.out) && !statSync(flags.out).isDirectory()) usage(`--out ${flags.out} is a file; the demo writes its recording into a directory`, "give a directory; it is created if missing");
      const flagCams = cameraSetFromFlags(flags.cameras, flags.cameraSize, flags.cameraHz);
      if ("error" in flagCams) usage(flagCams.error);
      const say = (line: string): void => void (flags.quiet ? undefined : process.stderr.write(line + "\n"));
      const outDir = resolve(flags.out);
      mkdirSync(outDir, { recursive: true });
      const logPath = join(outDir, `demo-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
      const logger = pino({ level: "info", base: { vehicle: VEHICLE } }, pino.destination({ dest: logPath, sync: false }));
      const registry = new TopicRegistry(VEHICLE);
      const scenario = liveScenario(seed, durationS, undefined, weather);
      const roadMap = buildScenario(scenario).map;

      // ---- transports: the embedded broker, or ZeroMQ sockets on free ports
      const { broker, simSink, simDecisions, daemonInput, closers } = await openDemoTransports(Boolean(flags.zmq), registry, say);

      // ---- the daemon, exactly as `fusiond run` composes it
      const latencies: number[] = [];
      /** Sensor to decision: from the camera frame's capture stamp to the decision, ms (what a user sees). */
      const sensorLatencies: number[] = [];
      let decisions = 0;
      let lastAction = "-";
      const config = parseDaemonConfig({
        vehicle: VEHICLE,
        ...daemonInput,
        outputs: { mqtt: !flags.zmq, zmq: !!flags.zmq },
        model: { dir: flags.model },
        // --cameras: the daemon aligns that set (a model with camera slots must have the same); without it, the model's.
        ...(flags.cameras && flagCams.set ? { aligner: { cameras: [...flagCams.set.ids] } } : {}),
        recording: { dir: outDir, compression: "zstd" },
        http: { listen: flags.http ?? "off" },
        ...(flags.foxglove ? { foxglove: { listen: /^\d+$/.test(flags.foxglove) ? `127.0.0.1:${flags.foxglove}` : flags.foxglove } } : {}),
        log: { level: "info" },
      }, "demo settings");
      let daemon;
      try {
        daemon = await startDaemon({
          config,
          logger,
          version: FUSIOND_VERSION,
          roadMap,
          onDecision: (d: DrivingDecision, latencyNs) => {
            decisions++;
            lastAction = d.action;
            latencies.push(Number(latencyNs) / 1e6);
            if (latencies.length > 2000) latencies.splice(0, 1000);
            sensorLatencies.push(d.sensor_to_decision_ms);
            if (sensorLatencies.length > 2000) sensorLatencies.splice(0, 1000);
          },
        });
      } catch (err) {
        for (const c of closers.reverse()) await c();
        await broker?.stop();
        const modelCameras = (err as { context?: { modelCameras?: string[] } }).context?.modelCameras;
        if (modelCameras && flags.cameras) usage(`--cameras ${flags.cameras} is not the camera set of the model ${flags.model} (${modelCameras.join(",")})`, `leave --cameras out to take the model's, or give --cameras ${modelCameras.join(",")}`);
        throw err;
      }
      const cams = simCameraSet(flags.cameras, flags.cameraSize, daemon.config.aligner.cameras, flags.cameraHz);
      if ("error" in cams) {
        await daemon.stop("bad camera set");
        for (const c of closers.reverse()) await c();
        await broker?.stop();
        usage(cams.error);
      }
      if (daemon.http) say(`fusiond demo: metrics at ${daemon.http.url}/metrics`);
      if (flags.foxglove) say(`fusiond demo: Foxglove live view: open a Foxglove WebSocket connection to ws://${/^\d+$/.test(flags.foxglove) ? `127.0.0.1:${flags.foxglove}` : flags.foxglove}`);
      say(`fusiond demo: model ${daemon.decider.primary.modelId} on ${daemon.decider.backend.chosen}; scenario ${scenario.name} (${scenario.weather.join(",")}), ${durationS} s in real time; Ctrl-C ends early`);

      // ---- the simulator in closed loop: its ego follows the daemon's decisions
      const decisionTopic = registry.topicFor("decision");
      const decisionSource = new SensorSource(simDecisions, new MessageDecoder({ registry }));
      const sim = startLiveSim({
        sink: new SensorSink(simSink, { registry }),
        decisions: decisionSource.messages([decisionTopic]).pipe(rxMap((m) => m.message as DecisionLike)),
        scenario,
        vehicle: VEHICLE,
        cameraSet: cams.set,
        onStatus: (s: LiveStatus) => statusLine(s),
        statusEveryMs: 500,
      });
      const started = Date.now();
      let lastDecisions = 0;
      let lastT = started;
      const isTty = process.stderr.isTTY === true;
      const statusLine = (s: LiveStatus): void => {
        if (flags.quiet) return;
        const now = Date.now();
        const rate = ((decisions - lastDecisions) * 1000) / Math.max(1, now - lastT);
        lastDecisions = decisions;
        lastT = now;
        const health = daemon.pipeline.health.snapshot();
        const alive = health.filter((h) => h.alive).map((h) => h.kind);
        const kinds = [...new Set(alive)].join(",") || "none";
        const line = `t=${s.simS.toFixed(1)}/${s.durationS}s  speed ${(s.speedMps * 3.6).toFixed(0)} km/h  lane ${s.lane}  action ${lastAction.padEnd(10)}  sensors ${kinds}  ${rate.toFixed(1)} dec/s  sensor→decision p99 ${p99(sensorLatencies).toFixed(1)} ms  collisions ${s.collisions}`;
        // Progress is for a person at a terminal: a pipe or a log gets the start lines and the summary only.
        if (isTty) process.stderr.write(`\r${line.padEnd(130)}`);
      };
      const onSignal = (): void => sim.stop();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);

      const score = await sim.done;
      if (isTty && !flags.quiet) process.stderr.write("\n");
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      const m = daemon.pipeline.metrics();
      await daemon.stop("demo finished");
      decisionSource.close();
      for (const c of closers.reverse()) await c();
      await broker?.stop();
      const files = daemon.recordingFiles().map((f) => relative(process.cwd(), f) || f);
      const summary = {
        scenario: scenario.name,
        weather: scenario.weather,
        transport: flags.zmq ? "zeromq" : "mqtt (embedded aedes)",
        model: daemon.decider.primary.modelId,
        backend: daemon.decider.backend.chosen,
        simulatedS: Number(score.durationS.toFixed(1)),
        wallS: Number(((Date.now() - started) / 1000).toFixed(1)),
        distanceM: Math.round(score.distanceM),
        routeCompletion: Number(score.routeCompletion.toFixed(3)),
        collisions: score.collisions,
        nearMisses: score.nearMisses,
        stopLineViolations: score.stopLineViolations,
        speedLimitViolations: score.speedLimitViolations,
        voiceCompliance: Number(score.voiceCompliance.toFixed(2)),
        messages: m.messagesIn,
        rejected: m.rejected,
        frames: m.frames,
        decisions: m.decisions,
        dropped: m.dropsTotal,
        latencyP99Ms: Number(p99(latencies).toFixed(2)),
        sensorToDecisionP50Ms: Number(quantile(sensorLatencies, 0.5).toFixed(2)),
        sensorToDecisionP99Ms: Number(p99(sensorLatencies).toFixed(2)),
        recording: files,
        log: relative(process.cwd(), logPath),
        // Runs as printed from a clone after npm install (npx finds the project's own bin), or installed.
        replay: files[0] ? `npx fusiond replay ${shellWord(files[0])} --model ${shellWord(flags.model)}` : undefined,
      };
      writeFileSync(join(outDir, "demo-summary.json"), JSON.stringify(summary, null, 2));
      if (flags.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      else process.stdout.write(summaryText(summary, files));
    });
}
