import type { Command } from "commander";

/** A CLI command module: adds one subcommand to the program. */
export type CommandModule = (program: Command) => void;

/** Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
export const EXIT_USAGE = 2;
