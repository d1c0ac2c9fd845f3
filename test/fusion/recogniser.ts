/** Test fixture: the spoken-command recogniser a model that reads the voice request ships with (untrained, seeded). */
import { join } from "node:path";
import { DEFAULT_FEATURE_CONFIG, makeInputSpec, type InputSpec } from "../../fusion/features/config.ts";
import { COMMAND_VOCAB } from "../../fusion/features/intent.ts";
import { renderCard } from "../../fusion/model/card.ts";
import { saveModelDir, VOICE_COMMAND_DIR, type ModelCard } from "../../fusion/model/model-dir.ts";
import { buildPretrainModel, PRETRAIN_TASKS } from "../../fusion/train/pretrain.ts";

/** Writes `dir`/voice-command/ when `spec` reads the voice request (as fusiond train does); call before saveModelDir(dir). */
export async function saveRecogniserFor(dir: string, spec: InputSpec, seed = 2): Promise<void> {
  if (!spec.inputs.some((i) => i.name === "intent")) return;
  const recSpec = makeInputSpec(["voice"], { ...DEFAULT_FEATURE_CONFIG, intent: false });
  const rec = buildPretrainModel(PRETRAIN_TASKS.voice(COMMAND_VOCAB.length), recSpec, seed);
  const card: ModelCard = { name: "voice-command", strategy: "intermediate", description: "untrained test recogniser", command: "test", data: { files: [], samples: 0, train: 0, val: 0 }, training: {}, metrics: {}, inputSpec: recSpec };
  await saveModelDir(join(dir, VOICE_COMMAND_DIR), rec, card, renderCard);
  rec.dispose();
}
