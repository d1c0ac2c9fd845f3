/**
 * DAgger (issue #20, point 3): the model drives, the expert labels the states it reaches. One round's episode is
 * a closed-loop episode (closed-loop.ts) in which, at each step, the expert's label drives instead of the model
 * with probability `expertShare` (β: 1 is the expert's own drive, 0 the model alone), and every simulator message
 * is recorded — the sensors of the states reached, and at each step a GroundTruth with the expert's label there.
 * The recording is a dataset like `fusiond sim --out`'s: `fusiond train --data` reads it as it is, so a round's
 * drives join the earlier data (DAgger's aggregation) and the next model is trained on all of it.
 */
import type { Modality } from "../../schemas/index.ts";
import { defaultCodec } from "../../schemas/codec.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import type { DatasetRecorder } from "../../sim/dataset-writer.ts";
import { buildScenario } from "../../sim/scenario.ts";
import { SCENARIO_MAPS_RECORD, scenarioMapsRecord } from "../../sim/scenario-maps.ts";
import { runEpisodeInProcess, type EpisodeResult } from "./closed-loop.ts";
import { unusedModalities, type EvalModel } from "./decider.ts";

export interface DaggerEpisodeOptions {
  /** β: the probability, at each step, that the expert's label drives instead of the model (0–1). */
  expertShare: number;
  /** Seed of the per-step draws. */
  seed: number;
  /** Modalities hidden from the model (default: those it does not read, as closed-loop eval masks them). */
  mask?: readonly Modality[];
}

/** Runs one episode with `model` (mixed with the expert) and records every simulator message to `rec`, then closes it. */
export async function recordDaggerEpisode(spec: ScenarioSpec, model: EvalModel, rec: DatasetRecorder, o: DaggerEpisodeOptions): Promise<EpisodeResult> {
  if (!(o.expertShare >= 0 && o.expertShare <= 1)) throw new RangeError(`the expert's share takes 0 to 1, not ${o.expertShare}`);
  const codec = defaultCodec();
  let n = 0;
  const result = await runEpisodeInProcess(spec, model, {
    mask: o.mask ?? unusedModalities(model.spec),
    expertMix: { share: o.expertShare, seed: o.seed },
    onSimMessage: async (m) => {
      rec.addMessage({ topic: m.topic, type: m.type, bytes: codec.encode(m.type, m.message), receiveNs: m.receiveNs, stampNs: m.stampNs });
      // As fast as the model allows, but no faster than the disk (as the dataset writer does).
      if (++n % 2000 === 0 && rec.stats().queuedBytes > 8 * 1024 * 1024) await rec.flush();
    },
  });
  // The map of the scenario driven (a seed outside the suite or a shortened scenario has no other source).
  rec.addMetadata(SCENARIO_MAPS_RECORD, scenarioMapsRecord(new Map([[spec.name, buildScenario(spec).map]])));
  await rec.close();
  const dropped = rec.stats().dropped;
  if (Object.keys(dropped).length) throw new Error(`recorder dropped messages: ${JSON.stringify(dropped)}`);
  return result;
}
