import { ACTION_NAMES, type ActionName } from "../schemas/index.ts";

export type { ActionName };
/**
 * The action classes a fusion model predicts, in output order. Class i is DrivingAction value i + 1
 * (fusiond.DrivingAction; ACTION_UNSPECIFIED is never a model output).
 */
export const ACTIONS = ACTION_NAMES;
export const NUM_ACTIONS = ACTIONS.length;

/**
 * Class index of a DrivingAction as protobufjs decodes it (a number, or a name when decoded with enums as
 * strings); -1 for ACTION_UNSPECIFIED or anything unknown.
 */
export function classIndexOf(action: unknown): number {
  if (typeof action === "number") return action >= 1 && action <= NUM_ACTIONS ? action - 1 : -1;
  if (typeof action === "string") return ACTIONS.indexOf(action as ActionName);
  return -1;
}
