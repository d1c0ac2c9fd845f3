import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "play", "publish a recording back onto MQTT/ZeroMQ (rate, loop, range, topic filter)", 5);
}
