/** The recordings an evaluation reads, checked before anything in them is believed. */
import { checkRecordings, recordingInputs } from "../../replay/index.ts";

/**
 * Their signatures: with `verifyKey`, a recording not signed by it (or changed since) is refused, unless
 * `allowUnsigned`; unsigned ones are warned about, a few named, then a count.
 */
export async function checkEvalRecordings(files: readonly string[], o: { verifyKey?: string; allowUnsigned?: boolean }, warn: (line: string) => void): Promise<void> {
  const warnings: string[] = [];
  await checkRecordings(files, { ...(o.verifyKey ? { verifyKey: o.verifyKey } : {}), ...(o.allowUnsigned ? { allowUnsigned: true } : {}) }, (w) => warnings.push(w));
  for (const w of warnings.slice(0, 3)) warn(w);
  if (warnings.length > 3) warn(`... and ${warnings.length - 3} more recordings like these`);
}

/**
 * The recordings as fusiond recordings: ROS recordings converted to temporary ones first (`cleanup` removes
 * them). Open-loop scores compare decisions with the simulator's labels, which a ROS drive does not bring: the log says so.
 */
export async function evalRecordings(files: readonly string[], rosMap: string | undefined, log: (s: string) => void): Promise<{ paths: string[]; converted: boolean; cleanup: () => Promise<void> }> {
  const inputs = await recordingInputs(files, rosMap, log, (input, f) => {
    if (input.converted) log(`${f}: a ROS recording carries no fusiond.GroundTruth labels, so the open loop scores none of its frames`);
  });
  const cleanup = async (): Promise<void> => {
    for (const i of inputs) await i.cleanup();
  };
  return { paths: inputs.map((i) => i.path), converted: inputs.some((i) => i.converted), cleanup };
}
