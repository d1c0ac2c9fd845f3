import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "replay", "run a recording through the pipeline in virtual time and score the decisions", 5);
}
