import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "record", "record chosen topics from MQTT/ZeroMQ to MCAP", 5);
}
