import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "run", "the daemon: subscribe, align, fuse, decide, publish, record, expose health and metrics", 8);
}
