/** `fusiond models [DIR...]`: the models shipped and found here, with what each reads and how it scored. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { FusiondError } from "../../schemas/index.ts";

/** One model directory as its card describes it. */
export interface ModelEntry {
  dir: string;
  name: string;
  strategy: string;
  modalities: string[];
  hash: string;
  /** Test macro-F1 and accuracy where the card has test metrics, else validation's; null where neither. */
  macroF1: number | null;
  accuracy: number | null;
  metricsOn: "test" | "validation" | "none";
  /**
   * The radar scan its frames hold when served (issue 16): "nearest" (waited for), "latest (trained)" (trained
   * on the latest scan at or before the camera) or "latest (served)" (its input spec's serving choice).
   */
  radar: "nearest" | "latest (trained)" | "latest (served)";
  description: string;
}

/**
 * ModelEntry.radar from the directory's input-spec.json (its config and serving choice); undefined where there is
 * none. `fusiond train` reads it too: it says when it replaces a model that has a serving choice.
 */
export function modelRadarScan(dir: string): ModelEntry["radar"] | undefined {
  const file = join(dir, "input-spec.json");
  if (!existsSync(file)) return undefined;
  let spec: { config?: { radarScan?: unknown }; serving?: { radarScan?: unknown } };
  try {
    spec = JSON.parse(readFileSync(file, "utf8")) as typeof spec;
  } catch (err) {
    throw new FusiondError("model_corrupt", `${file}: not valid JSON (${(err as Error).message})`, { file });
  }
  if (spec.serving?.radarScan === "latest") return "latest (served)";
  return spec.config?.radarScan === "latest" ? "latest (trained)" : "nearest";
}

const SHIPPED = fileURLToPath(new URL("../../models/", import.meta.url));

/** Reads a card.json into an entry; undefined when the directory has no card. */
export function readModel(dir: string): ModelEntry | undefined {
  const cardFile = join(dir, "card.json");
  if (!existsSync(cardFile)) return undefined;
  let card: Record<string, unknown>;
  try {
    card = JSON.parse(readFileSync(cardFile, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new FusiondError("model_corrupt", `${cardFile}: not valid JSON (${(err as Error).message})`, { file: cardFile });
  }
  const metrics = (card["metrics"] ?? {}) as Record<string, { macroF1?: number; accuracy?: number } | undefined>;
  const test = metrics["test overall"];
  const val = metrics["validation"];
  const m = test ?? val;
  return {
    dir,
    name: String(card["name"] ?? ""),
    strategy: String(card["strategy"] ?? ""),
    modalities: ((card["inputSpec"] as { modalities?: string[] } | undefined)?.modalities ?? []).slice(),
    hash: String(card["hash"] ?? ""),
    macroF1: m?.macroF1 ?? null,
    accuracy: m?.accuracy ?? null,
    metricsOn: test ? "test" : val ? "validation" : "none",
    radar: modelRadarScan(dir) ?? "nearest",
    description: String(card["description"] ?? ""),
  };
}

/** The models in `root`: itself if it is a model directory, else each sub-directory that is one. */
export function listModels(root: string): ModelEntry[] {
  if (!existsSync(root)) throw new FusiondError("model_not_found", `${root}: no such directory`, { file: root, hint: "give a directory of models, e.g. models/" });
  if (!statSync(root).isDirectory()) throw new FusiondError("is_file", `${root} is a file, not a directory of models`, { file: root, hint: "give the directory that holds it" });
  const self = readModel(root);
  if (self) return [self];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => readModel(join(root, d.name)))
    .filter((m): m is ModelEntry => m !== undefined)
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

const f3 = (v: number | null): string => (v === null ? "n/a" : v.toFixed(3));

export default function register(program: Command): void {
  program
    .command("models")
    .description("list models: the shipped ones and any in the directories given, with strategy, inputs, hash and scores from their cards")
    .argument("[dirs...]", "directories of models, or model directories (default: the shipped models, and ./models if it is another)")
    .option("--json", "print the list as JSON")
    .addHelpText(
      "after",
      `
Scores are the card's test metrics (held-out recordings) where it has them, else validation's.
Radar scan: which scan a frame holds when the model is served — nearest (the scan nearest the camera, waited
for), latest (trained) or latest (served: its input-spec.json serving choice): the latest at or before the camera.
The hash identifies the weights; decisions and recordings carry it as their provenance.

Examples:
  fusiond models
  fusiond models models/default --json | jq '.[0].modalities'
  fusiond models ~/my-models`,
    )
    .action((dirs: string[], opts: { json?: boolean }) => {
      const roots = dirs.length ? dirs : [...new Set([SHIPPED, resolve("models")].map((d) => resolve(d)))].filter((d) => d === resolve(SHIPPED) || existsSync(d));
      const models = roots.flatMap((r) => listModels(r));
      const shown = models.map((m) => ({ ...m, dir: relative(process.cwd(), m.dir) || "." }));
      if (opts.json) {
        process.stdout.write(JSON.stringify(shown, null, 2) + "\n");
        return;
      }
      if (!shown.length) {
        process.stderr.write(`fusiond models: no model directories (with card.json) in ${roots.join(", ")}\n`);
        return;
      }
      const rows = [["directory", "name", "strategy", "reads", "radar scan", "hash", "macro-F1", "accuracy", "on"], ...shown.map((m) => [m.dir, m.name, m.strategy, m.modalities.join("+"), m.radar, m.hash, f3(m.macroF1), f3(m.accuracy), m.metricsOn])];
      const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(w[i]!)).join("  ").trimEnd() + "\n");
    });
}
