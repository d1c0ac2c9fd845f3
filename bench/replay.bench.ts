/**
 * `npm run bench -- replay`: `fusiond replay` speed as a multiple of real time — a 60 s simulator drive
 * (seed 4: every sensor, voice commands included) through the whole pipeline (aligner mode: validate,
 * align, decide, metrics) with the shipped model, exactly as the command runs it (`runReplay`). Beside it,
 * in the same run, reading + decoding the same file on the virtual clock with no pipeline (the replay
 * source alone). Startup (open the file, load the model) is reported on its own row, not in the speed.
 * The first replay in a process runs cold (JIT, TF.js kernels); the steady-state figure is the median of
 * the warm runs after it. Each speed is also given per CPU-second (what one core does, whatever else runs).
 * Real cameras (issue 16): FUSIOND_BENCH_REPLAY_CAMERAS=front,rear,left,right (and _CAMERA_SIZE=WxH, default 64x64)
 * records the drive with that camera set; FUSIOND_BENCH_REPLAY_MODEL picks the model (e.g. models/multi-camera,
 * whose camera slots make the replay align and decode all four).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { runReplay, type ReplayReport } from "../eval/run/replay.ts";
import { writeDataset } from "../bin/commands/sim.ts";
import { cameraSetFromFlags } from "../bin/commands/camera-flags.ts";
import { driveReplay, fileSource, McapRecording } from "../replay/index.ts";
import { median, type BenchRow, type BenchSuite } from "./harness.ts";

const SEED = 4;
const DRIVE_S = 60;
const WARM_RUNS = 5;
const MODEL = process.env["FUSIOND_BENCH_REPLAY_MODEL"] ?? "models/default";
const CAMERAS = process.env["FUSIOND_BENCH_REPLAY_CAMERAS"];
const CAMERA_SIZE = process.env["FUSIOND_BENCH_REPLAY_CAMERA_SIZE"];

const replayOnce = (file: string): Promise<ReplayReport> =>
  runReplay(file, { model: MODEL, ignore: "latency_ms,sensor_to_decision_ms,inference_ms,backend,seq", tolerance: "1e-6", quiet: true });

const suite: BenchSuite = {
  name: "replay",
  description: "fusiond replay × real time: a 60 s drive through the whole pipeline with the shipped model, beside the replay source alone",
  async run(log) {
    if (!existsSync(join(MODEL, "model.json"))) {
      log(`${MODEL} is not there: nothing to measure`);
      return [];
    }
    const dir = mkdtempSync(join(tmpdir(), "fusiond-bench-replay-"));
    try {
      const file = join(dir, "drive.mcap");
      const cams = cameraSetFromFlags(CAMERAS, CAMERA_SIZE);
      if ("error" in cams) throw new Error(`FUSIOND_BENCH_REPLAY_CAMERAS/_CAMERA_SIZE: ${cams.error}`);
      const scores = await writeDataset(file, SEED, DRIVE_S, { vehicle: "sim", sensors: ["camera", "radar", "gnss", "ego", "voice"], cameraFormat: "jpeg", episodeS: 120, compression: "zstd", ...(cams.set ? { cameraSet: cams.set } : {}) });
      const voice = scores.reduce((a, s) => a + s.voiceCommands, 0);
      log(`drive: fusiond sim --seed ${SEED} --duration ${DRIVE_S}${cams.set ? ` --cameras ${cams.set.ids.join(",")} --camera-size ${cams.set.width}x${cams.set.height}` : ""} (${voice} voice commands); model ${MODEL}`);

      // One-shot CLI: the whole process, tsx and module loading included, beside the replay loop it reports.
      const out = join(dir, "report.json");
      const t0 = performance.now();
      const cli = spawnSync(process.execPath, ["bin/fusiond.js", "replay", file, "--model", MODEL, "--out", out, "--quiet"], { encoding: "utf8" });
      const cliS = (performance.now() - t0) / 1000;
      if (cli.status !== 0) throw new Error(`fusiond replay failed: ${cli.stderr}`);
      const cliReport = JSON.parse(readFileSync(out, "utf8")) as ReplayReport;
      log(`CLI process: ${cliS.toFixed(2)} s wall, of which the replay ${cliReport.wallS.toFixed(2)} s (${cliReport.speedX.toFixed(1)}×), startup in runReplay ${cliReport.startupS.toFixed(2)} s`);

      // In process: the first run is cold, the rest warm.
      const runs: ReplayReport[] = [];
      for (let i = 0; i <= WARM_RUNS; i++) {
        const r = await replayOnce(file);
        runs.push(r);
        log(`run ${i}${i === 0 ? " (cold)" : ""}: ${r.decisions} decisions, ${r.wallS.toFixed(3)} s wall = ${r.speedX.toFixed(1)}×, ${r.cpuS.toFixed(3)} s CPU, startup ${r.startupS.toFixed(3)} s`);
      }
      const cold = runs[0]!;
      const warm = runs.slice(1);
      const recordedS = cold.recordedS;

      // Baseline: the replay source alone (read + decode + virtual clock), median of as many runs.
      const src: { wall: number; cpu: number }[] = [];
      for (let i = 0; i <= WARM_RUNS; i++) {
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        const rec = await McapRecording.open(await fileSource(file));
        await driveReplay({ recording: rec, build: (input) => input, collect: false });
        await rec.close();
        const c = process.cpuUsage(c0);
        if (i > 0) src.push({ wall: (performance.now() - w0) / 1000, cpu: (c.user + c.system) / 1e6 });
      }
      const srcWall = recordedS / median(src.map((s) => s.wall));
      const srcCpu = recordedS / median(src.map((s) => s.cpu));
      const perDecisionMs = (1000 * median(warm.map((r) => r.wallS))) / cold.decisions;
      log(`steady state: ${perDecisionMs.toFixed(2)} ms wall per decision (${cold.decisions} decisions, ${cold.messages} messages)`);

      const rows: BenchRow[] = [
        { name: `replay, whole pipeline + model, × real time (median of ${WARM_RUNS} warm)`, value: median(warm.map((r) => r.speedX)), unit: "×", baseline: { name: "replay source alone (read + decode + clock)", value: srcWall }, goal: "≥ 50×" },
        { name: "same, per CPU-second", value: median(warm.map((r) => recordedS / r.cpuS)), unit: "×", baseline: { name: "replay source alone, per CPU-second", value: srcCpu }, goal: "≥ 50×" },
        { name: "replay, first run in the process (cold), × real time", value: cold.speedX, unit: "×", baseline: { name: "warm median", value: median(warm.map((r) => r.speedX)) } },
        { name: "startup in process (open + metadata + load model), s", value: median(warm.map((r) => r.startupS)), unit: "s", note: `cold: ${cold.startupS.toFixed(2)} s` },
        { name: "one-shot CLI `fusiond replay`, whole process, × real time", value: recordedS / cliS, unit: "×", baseline: { name: "its replay loop alone", value: cliReport.speedX }, note: `process ${cliS.toFixed(2)} s; the rest is node + tsx + module loading + model load` },
      ];
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default suite;
