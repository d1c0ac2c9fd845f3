/**
 * `fusiond sim`: the simulator alone.
 *   dataset:  fusiond sim --seed S --duration D --out FILE.mcap     (labelled episodes, as fast as the CPU allows)
 *   live:     fusiond sim --mqtt URL | --zmq ENDPOINT [--lockstep]  (waits for the sensors/ transports)
 * The file is deterministic: the same seed and options give the same bytes (no wall clock inside).
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { defaultCodec } from "../../schemas/codec.ts";
import { recordToFile } from "../../replay/recorder.ts";
import { datasetMessages } from "../../sim/dataset.ts";
import type { SensorName } from "../../sim/episode.ts";
import { scenarioSuite } from "../../sim/scenarios.ts";
import type { EpisodeScore } from "../../sim/score.ts";
import { EXIT_USAGE } from "./types.ts";

interface SimFlags {
  seed: string;
  duration: string;
  out?: string;
  vehicle: string;
  camera: string;
  sensors: string;
  episode: string;
  scenario?: string;
  compression: string;
  json?: boolean;
  mqtt?: string;
  zmq?: string;
  lockstep?: boolean;
}

const ALL_SENSORS: SensorName[] = ["camera", "radar", "gnss", "ego", "voice"];

export default function register(program: Command): void {
  program
    .command("sim")
    .description("the simulator alone: write a labelled dataset to MCAP, or publish sensors over MQTT/ZeroMQ (real time or lockstep)")
    .option("--seed <n>", "seed of the drive", "1")
    .option("--duration <s>", "simulated seconds", "60")
    .option("--out <file.mcap>", "dataset mode: write every topic, ground truth and expert label to this MCAP file")
    .option("--vehicle <id>", "vehicle id in topic names", "sim")
    .option("--camera <format>", "camera output: jpeg (CompressedImage) or raw (RawImage rgb8)", "jpeg")
    .option("--sensors <list>", "comma-separated sensors to model", ALL_SENSORS.join(","))
    .option("--episode <s>", "longest episode, s (episodes run back to back)", "120")
    .option("--scenario <name>", "run a named scenario of the suite (see sim/scenarios.ts) instead of random ones")
    .option("--compression <c>", "MCAP chunk compression: zstd, lz4 or none", "zstd")
    .option("--json", "print the episode scores as JSON")
    .option("--mqtt <url>", "live mode over MQTT (needs the sensors/ transports)")
    .option("--zmq <endpoint>", "live mode over ZeroMQ (needs the sensors/ transports)")
    .option("--lockstep", "advance one step per decision (see docs/simulator.md)")
    .action(async (flags: SimFlags) => {
      if (flags.mqtt || flags.zmq || flags.lockstep) {
        process.stderr.write(
          "fusiond sim: live and lockstep modes over MQTT/ZeroMQ are not wired yet (they wait for the sensors/ transports); " +
            "the lockstep bridge itself is sim/lockstep.ts and the protocol is in docs/simulator.md.\n",
        );
        process.exitCode = EXIT_USAGE;
        return;
      }
      if (!flags.out) {
        process.stderr.write("fusiond sim: give --out FILE.mcap (dataset mode), or --mqtt/--zmq (live mode)\n");
        process.exitCode = EXIT_USAGE;
        return;
      }
      const seed = Number(flags.seed);
      const durationS = Number(flags.duration);
      const sensors = flags.sensors.split(",").map((s) => s.trim()) as SensorName[];
      const bad = sensors.filter((s) => !ALL_SENSORS.includes(s));
      if (!Number.isInteger(seed) || seed < 0 || !(durationS > 0) || bad.length || !["jpeg", "raw"].includes(flags.camera)) {
        process.stderr.write(`fusiond sim: bad option (seed ${flags.seed}, duration ${flags.duration}, camera ${flags.camera}${bad.length ? `, sensors ${bad.join(",")}` : ""})\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const scenarios = flags.scenario ? scenarioSuite().filter((s) => s.name === flags.scenario) : undefined;
      if (flags.scenario && !scenarios?.length) {
        process.stderr.write(`fusiond sim: no scenario "${flags.scenario}"; known: ${scenarioSuite().map((s) => s.name).join(", ")}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const scores = await writeDataset(flags.out, seed, durationS, {
        vehicle: flags.vehicle,
        sensors,
        cameraFormat: flags.camera as "jpeg" | "raw",
        episodeS: Number(flags.episode),
        compression: flags.compression as "zstd" | "lz4" | "none",
        ...(scenarios ? { scenarios } : {}),
      });
      if (flags.json) process.stdout.write(JSON.stringify(scores, null, 2) + "\n");
      else for (const s of scores) process.stdout.write(summary(s) + "\n");
    });
}

interface WriteOptions {
  vehicle: string;
  sensors: SensorName[];
  cameraFormat: "jpeg" | "raw";
  episodeS: number;
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
    metadata: { vehicle: o.vehicle, source: "fusiond sim", seed: String(seed), durationS: String(durationS), sensors: o.sensors.join(","), camera: o.cameraFormat },
  });
  const gen = datasetMessages(seed, durationS, { vehicle: o.vehicle, sensors: o.sensors, cameraFormat: o.cameraFormat, episodeS: o.episodeS, ...(o.scenarios ? { scenarios: o.scenarios } : {}) });
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
