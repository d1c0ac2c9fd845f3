import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "info", "summarise an MCAP recording: duration, topics, types, counts, rates, gaps, chunks", 5);
}
