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
import { TopicRegistry } from "../../schemas/index.ts";
import type { MapWeather } from "../../domain/road-map.ts";
import { buildScenario, WEATHERS } from "../../sim/scenario.ts";
import type { LiveStatus } from "../../sim/live.ts";
import { liveScenario } from "../../sim/live-scenario.ts";
import { CAMERA_HZ_HELP, CAMERA_SIZE_HELP, CAMERAS_HELP, cameraSetFromFlags } from "./camera-flags.ts";
import { chooseModel, type ModelChoice } from "../../pipeline/model-choice.ts";
import { shippedModels } from "../daemon/shipped-models.ts";
import { usage } from "../cli-errors.ts";
import { foxgloveListen, hostPort, number } from "../cli-validate.ts";
import { FUSIOND_VERSION } from "../version.ts";
import { DecisionTally, demoSummary, shellWord, summaryText } from "./demo-summary.ts";
import { closeDemoTransports, demoDaemonConfig, openDemoTransports, startDemoDaemon, startDemoSim } from "./demo-transports.ts";

interface DemoFlags {
  duration: string;
  weather?: string;
  seed: string;
  /** Absent: chosen for the cameras (pipeline/model-choice.ts). */
  model?: string;
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

export { shellWord };

export default function register(program: Command): void {
  program
    .command("demo")
    .description("the embedded default: in-process MQTT broker, the simulator, the daemon in closed loop, a recording, a summary")
    .option("--duration <s>", "simulated seconds, run in real time", number({ gt: 0 }), "60")
    .option("--weather <list>", `weather along the route (${WEATHERS.join(", ")}), e.g. fog or clear,night`)
    .option("--seed <n>", "scenario seed", number({ integer: true, min: 0 }), "1")
    .option("--model <dir>", "model directory (default: the shipped model for the cameras: models/multi-camera for --cameras front,rear,left,right, models/default for one camera)")
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
      const transports = await openDemoTransports(Boolean(flags.zmq), registry, say);

      // ---- the daemon, exactly as `fusiond run` composes it, and the camera set the simulator renders for it
      const tally = new DecisionTally();
      const named = flags.cameras && flagCams.set ? [...flagCams.set.ids] : undefined;
      const { model, modelChoice } = demoModel(flags.model, named);
      const config = demoDaemonConfig(VEHICLE, transports, { zmq: Boolean(flags.zmq), model, outDir, ...(named ? { cameras: named } : {}), ...(flags.http ? { http: flags.http } : {}), ...(flags.foxglove ? { foxglove: flags.foxglove } : {}) });
      const { daemon, cams } = await startDemoDaemon(transports, { config, logger, version: FUSIOND_VERSION, roadMap, onDecision: tally.onDecision, ...(modelChoice ? { modelChoice } : {}) }, { ...flags, model });
      if (modelChoice) say(`fusiond demo: model ${model} (${modelChoice.why})${modelChoice.warning ? `; ${modelChoice.warning}` : ""}`);
      if (daemon.http) say(`fusiond demo: metrics at ${daemon.http.url}/metrics`);
      if (flags.foxglove) say(`fusiond demo: Foxglove live view: open a Foxglove WebSocket connection to ws://${foxgloveListen(flags.foxglove)}`);
      say(`fusiond demo: model ${daemon.decider.primary.modelId} on ${daemon.decider.backend.chosen}; scenario ${scenario.name} (${scenario.weather.join(",")}), ${durationS} s in real time; Ctrl-C ends early`);

      // ---- the simulator in closed loop: its ego follows the daemon's decisions
      const { sim, decisionSource } = startDemoSim(transports, registry, {
        scenario,
        vehicle: VEHICLE,
        cameraSet: cams.set,
        onStatus: (s: LiveStatus) => statusLine(s),
        statusEveryMs: 500,
      });
      const started = Date.now();
      tally.start(started);
      const isTty = process.stderr.isTTY === true;
      // Progress is for a person at a terminal: a pipe or a log gets the start lines and the summary only.
      const statusLine = (s: LiveStatus): void => void (!flags.quiet && isTty && process.stderr.write(`\r${tally.statusLine(s, daemon.pipeline.health.snapshot()).padEnd(130)}`));
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
      await closeDemoTransports(transports);
      const files = daemon.recordingFiles().map((f) => relative(process.cwd(), f) || f);
      const summary = demoSummary({
        scenario,
        zmq: Boolean(flags.zmq),
        model: { id: daemon.decider.primary.modelId, backend: daemon.decider.backend.chosen, dir: model },
        score,
        wallS: (Date.now() - started) / 1000,
        metrics: m,
        tally,
        files,
        log: relative(process.cwd(), logPath),
      });
      writeFileSync(join(outDir, "demo-summary.json"), JSON.stringify(summary, null, 2));
      if (flags.json) process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      else process.stdout.write(summaryText(summary, files));
    });
}

/** The demo's model: --model when given, else the shipped one for the cameras --cameras names (one or none: models/default). */
export function demoModel(flagModel: string | undefined, cameras: readonly string[] | undefined, listShipped = shippedModels): { model: string; modelChoice?: ModelChoice } {
  if (flagModel) return { model: flagModel };
  const modelChoice = chooseModel(cameras, listShipped());
  return { model: modelChoice.dir, modelChoice };
}
