import type { Command } from "commander";
import { plannedCommand } from "./types.ts";

export default function register(program: Command): void {
  plannedCommand(program, "sim", "the simulator alone: publish sensors over MQTT/ZeroMQ (real time or lockstep) or write a labelled dataset to MCAP", 4);
}
