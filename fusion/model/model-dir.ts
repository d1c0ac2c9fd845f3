/**
 * A model directory: the TF.js model (model.json + weights.bin), its input spec (input-spec.json) and its
 * model card (card.json, card.md). Loading checks everything up front — missing files, a spec that the
 * current feature code does not produce, model inputs that disagree with the spec — so a bad model fails
 * at load time with a clear error, never at the first frame.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { FusiondError } from "../../schemas/index.ts";
import { specMismatches, type InputSpec } from "../features/config.ts";
import { FsModelHandler, MODEL_JSON, WEIGHTS_BIN } from "./fs-io.ts";
import { writeOnnxFile, type OnnxCardEntry } from "./onnx-file.ts";
import "./layers.ts"; // registers the custom layers for deserialization

export const INPUT_SPEC_JSON = "input-spec.json";
export const CARD_JSON = "card.json";
export const CARD_MD = "card.md";
export const MODEL_FILES = [MODEL_JSON, WEIGHTS_BIN, INPUT_SPEC_JSON, CARD_JSON] as const;

export interface ModelCard {
  name: string;
  strategy: string;
  description: string;
  /** The command that made the model, exactly as run. */
  command: string;
  data: { files: string[]; samples: number; train: number; val: number; test?: number; classCounts?: Record<string, number> };
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  inputSpec: InputSpec;
  /** Content hash of model.json + weights.bin. */
  hash?: string;
  params?: number;
  flopsPerSample?: number;
  created?: string;
  notes?: string[];
  /** model.onnx beside model.json (onnx-file.ts): its sha256, or why the model has none. */
  onnx?: OnnxCardEntry;
  /**
   * The one look at the held-out test split (`fusiond train --test-data`): when, and on which files. Later
   * evaluations on the split are second looks (eval/run/test-split.ts).
   */
  testLook?: { created: string; files: string[]; samples: number };
}

export interface LoadedModel {
  dir: string;
  id: string;
  hash: string;
  model: tf.LayersModel;
  spec: InputSpec;
  card: ModelCard;
  /** The spoken-command recogniser (VOICE_COMMAND_DIR) that feeds the voice request, for models that read it. */
  commands?: LoadedModel;
}

/** Subdirectory of a model that reads the voice request: the recogniser of spoken commands (COMMAND_VOCAB classes). */
export const VOICE_COMMAND_DIR = "voice-command";

/** Hash of the weights that make the decisions: the model's, and its command recogniser's when it has one. */
export function hashModelFiles(dir: string): string {
  const h = createHash("sha256");
  for (const f of [MODEL_JSON, WEIGHTS_BIN]) h.update(readFileSync(join(dir, f)));
  const sub = join(dir, VOICE_COMMAND_DIR);
  if (existsSync(join(sub, WEIGHTS_BIN))) for (const f of [MODEL_JSON, WEIGHTS_BIN]) h.update(readFileSync(join(sub, f)));
  return h.digest("hex").slice(0, 16);
}

/**
 * Saves model, its ONNX form (model.onnx), spec and card; the card gets the hash of what was written and the
 * ONNX file's sha256. Returns the hash.
 */
export async function saveModelDir(dir: string, model: tf.LayersModel, card: ModelCard, renderCard: (c: ModelCard) => string): Promise<string> {
  await model.save(new FsModelHandler(dir));
  const hash = hashModelFiles(dir);
  const full = { ...card, hash, params: model.countParams(), onnx: writeOnnxFile(dir, model, hash) };
  writeFileSync(join(dir, INPUT_SPEC_JSON), JSON.stringify(card.inputSpec, null, 2) + "\n");
  writeCard(dir, full, renderCard);
  return hash;
}

/** Writes card.json and card.md. */
export function writeCard(dir: string, card: ModelCard, renderCard: (c: ModelCard) => string): void {
  writeFileSync(join(dir, CARD_JSON), JSON.stringify(card, null, 2) + "\n");
  writeFileSync(join(dir, CARD_MD), renderCard(card));
}

/**
 * `fusiond export`: writes model.onnx for a loaded model directory (and its command recogniser's) and puts the
 * files' sha256 in the cards. Returns the entries, the model's first.
 */
export function exportModelDir(loaded: LoadedModel, renderCard: (c: ModelCard) => string): OnnxCardEntry[] {
  const entry = writeOnnxFile(loaded.dir, loaded.model, loaded.hash);
  writeCard(loaded.dir, { ...loaded.card, onnx: entry }, renderCard);
  return [entry, ...(loaded.commands ? exportModelDir(loaded.commands, renderCard) : [])];
}

function readJson<T>(dir: string, file: string): T {
  try {
    return JSON.parse(readFileSync(join(dir, file), "utf8")) as T;
  } catch (err) {
    throw new FusiondError("model_corrupt", `${dir}/${file} is not valid JSON: ${(err as Error).message}`, { dir, file });
  }
}

/** Loads and checks a model directory (see the module comment). Throws FusiondError with a code. */
export async function loadModelDir(dirIn: string): Promise<LoadedModel> {
  const dir = resolve(dirIn);
  if (!existsSync(dir)) throw new FusiondError("model_not_found", `model directory ${dir} does not exist`, { dir });
  const missing = MODEL_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw new FusiondError("model_incomplete", `model directory ${dir} is missing ${missing.join(", ")}`, { dir, missing });
  const spec = readJson<InputSpec>(dir, INPUT_SPEC_JSON);
  const card = readJson<ModelCard>(dir, CARD_JSON);
  const problems = specMismatches(spec);
  if (problems.length) {
    throw new FusiondError("model_spec_mismatch", `model ${dir} does not match the feature code: ${problems.join("; ")}`, { dir, problems });
  }
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(new FsModelHandler(dir));
  } catch (err) {
    if (err instanceof FusiondError) throw err;
    throw new FusiondError("model_corrupt", `model ${dir} failed to load: ${(err as Error).message}`, { dir }, { cause: err });
  }
  const inputProblems: string[] = [];
  if (model.inputs.length !== spec.inputs.length) inputProblems.push(`model has ${model.inputs.length} inputs, spec ${spec.inputs.length}`);
  spec.inputs.forEach((s, i) => {
    const inp = model.inputs[i];
    const shape = inp?.shape.slice(1).join("×");
    if (!inp || !inp.name.startsWith(s.name) || shape !== s.shape.join("×")) {
      inputProblems.push(`input ${i}: model ${inp?.name ?? "none"} ${shape ?? ""}, spec ${s.name} ${s.shape.join("×")}`);
    }
  });
  if (inputProblems.length) {
    model.dispose();
    throw new FusiondError("model_spec_mismatch", `model ${dir} inputs disagree with its spec: ${inputProblems.join("; ")}`, { dir, problems: inputProblems });
  }
  let commands: LoadedModel | undefined;
  if (spec.inputs.some((i) => i.name === "intent")) {
    const sub = join(dir, VOICE_COMMAND_DIR);
    if (!existsSync(sub)) {
      model.dispose();
      throw new FusiondError(
        "model_incomplete",
        `model directory ${dir} reads the standing voice request but has no ${VOICE_COMMAND_DIR}/ (the spoken-command recogniser that feeds it); retrain it with fusiond train, which writes both`,
        { dir, missing: [VOICE_COMMAND_DIR] },
      );
    }
    commands = await loadModelDir(sub);
  }
  return { dir, id: card.name || basename(dir), hash: hashModelFiles(dir), model, spec, card, ...(commands ? { commands } : {}) };
}
