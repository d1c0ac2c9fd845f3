import type { Command } from "commander";

/** A CLI command module: adds one subcommand to the program. */
export type CommandModule = (program: Command) => void;

/** Exit codes: 0 ok, 1 runtime failure, 2 usage error or a command that is not built yet. */
export const EXIT_USAGE = 2;

/** Registers a command that is planned but not built yet: it says so and exits 2. */
export function plannedCommand(program: Command, name: string, summary: string, issue: number): void {
  program
    .command(name)
    .description(`${summary} [not built yet: issue #${issue}]`)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .helpOption("-h, --help", "show help")
    .action(() => {
      process.stderr.write(`fusiond ${name}: not built yet (tracked in issue #${issue}). See \`fusiond --help\` for what works today.\n`);
      process.exitCode = EXIT_USAGE;
    });
}
