/**
 * The fusiond CLI: the composition root. Only bin/ picks transports and the wall clock.
 * Each command lives in bin/commands/<name>.ts.
 */
import { Command } from "commander";
import { routeCommanderErrors, runCli } from "./cli-errors.ts";
import convert from "./commands/convert.ts";
import demo from "./commands/demo.ts";
import cat from "./commands/cat.ts";
import completion from "./commands/completion.ts";
import echo from "./commands/echo.ts";
import filter from "./commands/filter.ts";
import evalCmd from "./commands/eval.ts";
import exportCmd from "./commands/export.ts";
import fleet from "./commands/fleet.ts";
import info from "./commands/info.ts";
import keygen from "./commands/keygen.ts";
import merge from "./commands/merge.ts";
import models from "./commands/models.ts";
import play from "./commands/play.ts";
import record from "./commands/record.ts";
import recover from "./commands/recover.ts";
import replay from "./commands/replay.ts";
import run from "./commands/run.ts";
import signKeygen from "./commands/sign-keygen.ts";
import sim from "./commands/sim.ts";
import train from "./commands/train.ts";
import verify from "./commands/verify.ts";
import worker from "./commands/worker.ts";
import { versionText } from "./version.ts";


export function buildProgram(): Command {
  const program = new Command("fusiond")
    .description("Streaming sensor fusion for autonomous vehicles: ingest, align, fuse, decide, record, replay, simulate.")
    .version(versionText(), "-V, --version", "print the version (and the git commit when run from a checkout)")
    .showHelpAfterError("(run with --help for usage)")
    .option("--verbose", "on an error, print its stack trace too")
    .showSuggestionAfterError(true);
  for (const register of [demo, run, sim, record, play, replay, info, recover, convert, train, evalCmd, exportCmd, echo, keygen, verify, signKeygen, worker, fleet]) register(program);
  for (const register of [cat, filter, merge, models, completion]) register(program);
  return routeCommanderErrors(program);
}

/**
 * Runs the CLI (bin/fusiond.js calls this). Every error goes through one path (bin/cli-errors.ts): one line,
 * exit 2 for usage, 1 for failures, never a secret (schemas/redact.ts). Resolves to that exit status, or
 * undefined when no error was thrown.
 */
export function main(argv: readonly string[] = process.argv, write?: (s: string) => void): Promise<number | undefined> {
  if (!process.stdout.listeners("error").includes(stdoutClosed)) process.stdout.on("error", stdoutClosed);
  return runCli(buildProgram(), argv, write);
}

/**
 * `fusiond models | head`: the reader went away (EPIPE) — the output is no longer wanted, so exit quietly rather
 * than die on an unhandled 'error' event with a stack trace. A command that watches stdout itself (cat, echo stop
 * cleanly and close what they hold) adds its own listener and is left to it.
 */
function stdoutClosed(err: NodeJS.ErrnoException): void {
  if (err.code !== "EPIPE") throw err;
  if (process.stdout.listenerCount("error") > 1) return;
  process.exit(0);
}
