import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "echo", "subscribe to topics and print decoded messages as JSON lines", 2);
}
