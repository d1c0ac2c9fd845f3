/** Replays two recordings with a model and compares their actions frame by frame (by frame stamp). */
import { runReplay } from "../../../eval/run/replay.ts";

export async function actionsOf(file: string, model: string): Promise<Map<string, string>> {
  const actions = new Map<string, string>();
  await runReplay(file, { model, ignore: "", tolerance: "0", quiet: true, backend: "wasm", onDecision: (key, d) => actions.set(key, String(d["action"])) });
  return actions;
}

export interface Agreement {
  frames: number;
  agree: number;
  fraction: number;
  differing: string[];
}

export function agreement(a: Map<string, string>, b: Map<string, string>): Agreement {
  const keys = new Set([...a.keys(), ...b.keys()]);
  const differing = [...keys].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k)} vs ${b.get(k)}`);
  const agree = keys.size - differing.length;
  return { frames: keys.size, agree, fraction: keys.size ? agree / keys.size : 0, differing };
}

// node --import tsx test/replay/ros/agreement.ts A.mcap B.mcap [MODEL_DIR]: the agreement of two replays' actions.
if (import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1] ?? "").href) {
  const [a, b, model = "models/default"] = process.argv.slice(2);
  if (!a || !b) throw new Error("usage: agreement.ts A.mcap B.mcap [MODEL_DIR]");
  const r = agreement(await actionsOf(a, model), await actionsOf(b, model));
  process.stdout.write(`actions agree on ${r.agree}/${r.frames} frames (${(100 * r.fraction).toFixed(1)}%)\n${r.differing.slice(0, 10).join("\n")}\n`);
}
