/**
 * Lets a command that reads a fusiond recording take a ROS 1 bag or ROS 2 MCAP file as it is: the file is
 * converted (with the --ros-map mapping, or the defaults) to a temporary fusiond recording, which the
 * command reads and `cleanup` removes. A fusiond recording passes through untouched. (The --ros-map flag itself: bin/commands/ros-flags.ts.)
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { FusiondError } from "../../schemas/index.ts";
import type { ConvertReport } from "./convert.ts";
import { convertRosFile } from "./convert-file.ts";
import { parseMapping, type RosMapping } from "./mapping.ts";
import { isRosRecording } from "./open.ts";

export interface RecordingInput {
  /** The fusiond recording to read. */
  path: string;
  /** The conversion, when the input was a ROS recording. */
  converted?: ConvertReport;
  cleanup(): Promise<void>;
}

export function readMapping(path: string): { mapping: RosMapping; text: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new FusiondError("bad_option", `${path}: cannot read the ROS mapping: ${(err as Error).message}`, { file: path });
  }
  return { mapping: parseMapping(text, path), text };
}

/** The recording a command should read for `file`; converts a ROS recording to a temporary file first. */
export async function recordingInput(file: string, rosMap: string | undefined, log?: (line: string) => void): Promise<RecordingInput> {
  if (!(await isRosRecording(file))) {
    if (rosMap) throw new FusiondError("bad_option", `--ros-map is for ROS recordings; ${file} is a fusiond recording`, { file });
    return { path: file, cleanup: async () => undefined };
  }
  const m = rosMap ? readMapping(rosMap) : undefined;
  const dir = await mkdtemp(join(tmpdir(), "fusiond-ros-"));
  const path = join(dir, basename(file).replace(/\.(bag|mcap)$/i, "") + ".fusiond.mcap");
  try {
    const converted = await convertRosFile(file, path, { ...(m ? { mapping: m.mapping, mappingText: m.text } : {}), compression: "none" });
    log?.(`${file}: converted from ${converted.format === "ros1" ? "ROS 1" : "ROS 2"} (${converted.messagesOut} messages; unmapped topics: ${converted.unmapped.length}; see fusiond convert for the details)`);
    return { path, converted, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * recordingInput for each file, in order (`onEach` sees each as it is made); on a failure the ones made so far
 * are removed.
 */
export async function recordingInputs(
  files: readonly string[],
  rosMap: string | undefined,
  log?: (line: string) => void,
  onEach?: (input: RecordingInput, file: string) => void,
): Promise<RecordingInput[]> {
  const inputs: RecordingInput[] = [];
  try {
    for (const file of files) {
      const input = await recordingInput(file, rosMap, log);
      inputs.push(input);
      onEach?.(input, file);
    }
  } catch (err) {
    for (const i of inputs) await i.cleanup();
    throw err;
  }
  return inputs;
}
