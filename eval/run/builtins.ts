/**
 * The built-in rows of `fusiond eval` — `classic` (fusion/classic/) and `expert` (eval/run/expert.ts) — named
 * by their name instead of a model directory. What they are without loading anything (the fleet coordinator
 * plans jobs with it, eval/fleet/identity.ts): id, strategy, input spec, and a hash of the code that decides
 * (for classic also of the spoken-command recogniser it hears with), so reports and fleet jobs tell versions
 * apart.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { hashModelFiles, VOICE_COMMAND_DIR, type InputSpec } from "../../fusion/index.ts";
import { CLASSIC_HASH, CLASSIC_MODEL_ID, CLASSIC_SPEC } from "../../fusion/classic/runner.ts";
import { EXPERT_HASH, EXPERT_MODEL_ID, EXPERT_SPEC, EXPERT_STRATEGY } from "./expert.ts";

/** The shipped model whose spoken-command recogniser the classic controller hears with. */
export const RECOGNISER_MODEL = new URL("../../models/default", import.meta.url).pathname;

export const BUILTIN_MODELS = [CLASSIC_MODEL_ID, EXPERT_MODEL_ID] as const;
export type BuiltinModel = (typeof BUILTIN_MODELS)[number];

export const isBuiltinModel = (name: string): name is BuiltinModel => (BUILTIN_MODELS as readonly string[]).includes(name);

export interface BuiltinMeta {
  id: BuiltinModel;
  strategy: string;
  /** 16 hex: the deciding code's hash (classic: its rules' and its recogniser's weights). */
  hash: string;
  spec: InputSpec;
}

/** classic's identity: its rules (CLASSIC_HASH) and the weights of the recogniser it hears with. */
export function classicHash(): string {
  const recogniser = hashModelFiles(join(RECOGNISER_MODEL, VOICE_COMMAND_DIR));
  return createHash("sha256").update(`${CLASSIC_HASH}:${recogniser}`).digest("hex").slice(0, 16);
}

/** A built-in row by name, or undefined for anything else (a model directory). */
export function builtinMeta(name: string): BuiltinMeta | undefined {
  if (name === CLASSIC_MODEL_ID) return { id: CLASSIC_MODEL_ID, strategy: "classic", hash: classicHash(), spec: CLASSIC_SPEC };
  if (name === EXPERT_MODEL_ID) return { id: EXPERT_MODEL_ID, strategy: EXPERT_STRATEGY, hash: EXPERT_HASH, spec: EXPERT_SPEC };
  return undefined;
}
