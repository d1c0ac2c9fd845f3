import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "eval", "evaluate models open loop and closed loop", 7);
}
