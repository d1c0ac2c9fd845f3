/**
 * The held-out test split is looked at once per shipped model: `fusiond train --test-data` scores it when the
 * model is made, and the model card records that look (its `testLook`, or for models made before it, the
 * "test overall" metrics). Any later evaluation on test-split episodes is a second look: `fusiond eval` says so
 * on stderr and in the report's `testSplit`, so that no figure from it chooses a model (docs/eval.md,
 * "Protocol"). Models are chosen on validation; README figures come from fresh seeds (eval/run/scenarios.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import { CARD_JSON, type ModelCard } from "../../fusion/model/model-dir.ts";

/** When (or by what) the card says the model already saw the test split; undefined when it did not. */
export function firstTestLook(card: Pick<ModelCard, "metrics" | "created"> & { testLook?: { created: string } }): string | undefined {
  if (card.testLook) return `at training, ${card.testLook.created}`;
  if (card.metrics && "test overall" in card.metrics) return `at training${card.created ? `, ${card.created}` : ""} (the card's test metrics)`;
  return undefined;
}

/** The card of a model directory, read for its test look; built-ins (no card) have none. */
export function readFirstTestLook(dir: string): string | undefined {
  try {
    return firstTestLook(JSON.parse(readFileSync(join(dir, CARD_JSON), "utf8")) as ModelCard);
  } catch {
    return undefined;
  }
}

/** A suite scenario's name starts with its split (sim/scenarios.ts); an open-loop episode is "file#name-seed". */
const isTestName = (name: string): boolean => name.startsWith("test-");

/** Test-split units in an evaluation: closed-loop scenarios of the split, open-loop episodes recorded from them. */
export function testSplitUnits(scenarios: readonly ScenarioSpec[], openLoopEpisodes: Iterable<string>): number {
  let n = scenarios.filter((s) => s.split === "test").length;
  for (const e of new Set(openLoopEpisodes)) if (isTestName(e.slice(e.lastIndexOf("#") + 1))) n++;
  return n;
}
