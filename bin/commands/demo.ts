import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "demo", "the embedded default: in-process MQTT broker, simulator, daemon in closed loop, a recording, a summary", 8);
}
