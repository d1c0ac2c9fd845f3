/** The daemon's config file (`fusiond run --config FILE`): YAML or JSON, a mapping of keys (docs/deployment.md). */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { FusiondError } from "../../schemas/index.ts";

/** The file's keys, not yet checked (flags and the environment are laid over them first), and its text. */
export function readConfigFile(path: string): { raw: Record<string, unknown>; text: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new FusiondError("config_unreadable", `cannot read config ${path}: ${(err as Error).message}`, { file: path });
  }
  let raw: Record<string, unknown>;
  try {
    raw = (parseYaml(text) as Record<string, unknown> | null) ?? {};
  } catch (err) {
    throw new FusiondError("bad_config", `${path} is not valid YAML/JSON: ${(err as Error).message}`, { file: path });
  }
  if (typeof raw !== "object" || Array.isArray(raw)) throw new FusiondError("bad_config", `${path}: the top level must be a mapping of keys`);
  return { raw, text };
}
