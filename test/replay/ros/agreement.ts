/** Replays two recordings with a model and compares their actions frame by frame (by frame stamp). */
import { runReplay } from "../../../bin/commands/replay.ts";

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
