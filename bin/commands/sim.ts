/**
 * `fusiond sim`: the simulator alone.
 *   dataset:  fusiond sim --seed S --duration D --out FILE.mcap          (labelled episodes, as fast as the CPU allows)
 *   live:     fusiond sim --mqtt URL | --zmq ENDPOINT [--vehicle ID]     (real time, closed loop on vehicles/{v}/decision)
 *   lockstep: fusiond sim --mqtt URL --lockstep                          (one step per decision, docs/simulator.md)
 * The dataset file is deterministic: the same seed and options give the same bytes (no wall clock inside).
 * Live and lockstep run on sim/live.ts, wired by sim-live-mode.ts (transports, the wall clock, signals); the
 * dataset is sim/dataset-writer.ts's, recorded to the file opened here.
 */
import type { Command } from "commander";
import type { MapWeather } from "../../domain/road-map.ts";
import { FUSIOND_VERSION } from "../../schemas/version.ts";
import { recordToFile } from "../../replay/recorder.ts";
import type { Compression } from "../../replay/compression.ts";
import { datasetMetadata, episodeSummary, writeDatasetTo, type DatasetWriteOptions } from "../../sim/dataset-writer.ts";
import type { SensorName } from "../../sim/episode.ts";
import { WEATHERS } from "../../sim/scenario.ts";
import { scenarioSuite } from "../../sim/scenarios.ts";
import type { EpisodeScore } from "../../sim/score.ts";
import { CAMERA_HZ_HELP, CAMERA_SIZE_HELP, CAMERAS_HELP, cameraSetFromFlags } from "./camera-flags.ts";
import { runLive, type LiveFlags } from "./sim-live-mode.ts";
import { usage } from "../cli-errors.ts";
import { listOf, number, oneOf } from "../cli-validate.ts";
import { reportStream, writeAtomically } from "../output-file.ts";

interface SimFlags extends LiveFlags {
  seed: string;
  duration?: string;
  out?: string;
  cameras?: string;
  cameraSize?: string;
  cameraHz?: string;
  sensorLatency: string;
  sensors: string;
  episode: string;
  perturb: string;
  scenario?: string;
  weather?: string;
  compression: string;
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
    .option("--camera-hz <n>", CAMERA_HZ_HELP)
    .option("--camera-workers <n>", "live mode: threads that JPEG-encode a camera set's frames off the main thread, so the other sensors leave on time (0: encode on the main thread)", number({ integer: true, min: 0, max: 8 }), "1")
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
      const cams = cameraSetFromFlags(flags.cameras, flags.cameraSize, flags.cameraHz);
      if ("error" in cams) usage(cams.error);
      if (flags.mqtt || flags.zmq) {
        await runLive(flags, seed, durationS, sensors, scenarios?.[0], weather, cams.set);
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
      else for (const s of scores) reportStream(flags.out).write(episodeSummary(s) + "\n");
    });
}

/** Dataset mode: records every message (sim/dataset-writer.ts) to an MCAP file; returns the episode scores. */
export async function writeDataset(out: string, seed: number, durationS: number, o: DatasetWriteOptions & { compression: Compression }): Promise<EpisodeScore[]> {
  const rec = await recordToFile(out, { compression: o.compression, library: `fusiond/${FUSIOND_VERSION} sim`, metadata: datasetMetadata(seed, durationS, o) });
  return writeDatasetTo(rec, seed, durationS, o);
}
