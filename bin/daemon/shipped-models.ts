/**
 * The models that ship with the project (models/*), as the automatic model choice sees them
 * (pipeline/model-choice.ts): each directory's camera slots and modalities, from its input-spec.json.
 * A directory whose spec cannot be read is left out (it is not a model to choose).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ShippedModel } from "../../pipeline/model-choice.ts";

export const SHIPPED_MODELS_ROOT = "models";

export function shippedModels(root = SHIPPED_MODELS_ROOT): ShippedModel[] {
  if (!existsSync(root)) return [];
  const out: ShippedModel[] = [];
  for (const name of readdirSync(root).sort()) {
    const file = join(root, name, "input-spec.json");
    if (!existsSync(file)) continue;
    try {
      const spec = JSON.parse(readFileSync(file, "utf8")) as { config?: { cameras?: unknown }; modalities?: unknown };
      const cameras = Array.isArray(spec.config?.cameras) ? spec.config.cameras.map(String) : undefined;
      const modalities = Array.isArray(spec.modalities) ? spec.modalities.map(String) : [];
      out.push({ dir: `${root}/${name}`, cameras, modalities });
    } catch {
      continue;
    }
  }
  return out;
}
