/**
 * A session recorded live, as a vehicle records it: the simulator publishing in real time on an MQTT
 * broker, the daemon (startDaemon, exactly what `fusiond run` composes) deciding and recording. Used by
 * the golden replay test and by make-golden.ts, which writes the committed reference recording.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../../bin/daemon/daemon.ts";
import { makeInputSpec, renderCard, saveModelDir, strategyByName, type ModelCard } from "../../fusion/index.ts";
import { MODALITIES } from "../../schemas/index.ts";
import { useBackend } from "../fusion/tf-setup.ts";
import { capturedLogger, daemonConfig, simulatorOn } from "../bin/daemon-helpers.ts";
import { waitFor } from "../sensors/helpers.ts";
import { saveRecogniserFor } from "../fusion/recogniser.ts";

/**
 * The golden model: an untrained all-modality late-fusion model with seeded weights, so the same one is
 * built anywhere (its hash is checked against the recording's metadata). models/default did not exist
 * when the golden recording was made; an untrained model exercises the same plumbing.
 */
export async function goldenModel(dir: string, seed = 11): Promise<string> {
  await useBackend("wasm");
  const spec = makeInputSpec([...MODALITIES]);
  const card: ModelCard = {
    name: "golden-untrained",
    strategy: "late",
    description: "untrained, seeded: the model of the golden replay recording",
    command: "test/replay/make-golden.ts",
    data: { files: [], samples: 0, train: 0, val: 0 },
    training: {},
    metrics: {},
    inputSpec: spec,
  };
  await saveRecogniserFor(dir, spec);
  await saveModelDir(dir, strategyByName("late").build(spec, { seed }), card, renderCard);
  return dir;
}

export interface LiveSessionOptions {
  brokerUrl: string;
  model: string;
  /** Where the daemon writes its recording. */
  dir: string;
  vehicle: string;
  durationS: number;
  seed?: number;
}

/** Runs one live session to its end and returns the recording the daemon wrote (and its decision count). */
export async function recordLiveSession(o: LiveSessionOptions): Promise<{ file: string; decisions: number }> {
  mkdirSync(o.dir, { recursive: true });
  const log = capturedLogger();
  const config = daemonConfig(o.vehicle, o.brokerUrl, o.model, { recording: { dir: o.dir, compression: "zstd" }, http: { listen: "off" }, model: { dir: o.model, backend: "wasm" } });
  const daemon = await startDaemon({ config, logger: log.logger, version: "golden" });
  let decisions = 0;
  try {
    const feed = await simulatorOn(o.brokerUrl, o.vehicle, o.durationS, o.seed ?? 3);
    try {
      await feed.sim.done;
      // The last frames wait for the aligner's bounded delay, then inference.
      const settled = daemon.pipeline.metrics().frames;
      await waitFor(() => daemon.pipeline.metrics().decisions > 0 && daemon.pipeline.metrics().frames === settled, "the last frames", 5000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      await feed.client.close();
    }
  } finally {
    decisions = daemon.pipeline.metrics().decisions;
    await daemon.stop("session over");
  }
  const files = readdirSync(o.dir).filter((f) => f.endsWith(".mcap"));
  if (files.length !== 1) throw new Error(`expected one recording in ${o.dir}, found ${files.join(", ") || "none"}`);
  return { file: join(o.dir, files[0]!), decisions };
}
