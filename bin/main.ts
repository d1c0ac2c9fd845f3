/**
 * The fusiond CLI: the composition root. Only bin/ picks transports and the wall clock.
 * Each command lives in bin/commands/<name>.ts.
 */
import { Command, CommanderError } from "commander";
import convert from "./commands/convert.ts";
import demo from "./commands/demo.ts";
import echo from "./commands/echo.ts";
import evalCmd from "./commands/eval.ts";
import exportCmd from "./commands/export.ts";
import fleet from "./commands/fleet.ts";
import info from "./commands/info.ts";
import keygen from "./commands/keygen.ts";
import play from "./commands/play.ts";
import record from "./commands/record.ts";
import recover from "./commands/recover.ts";
import replay from "./commands/replay.ts";
import run from "./commands/run.ts";
import signKeygen from "./commands/sign-keygen.ts";
import sim from "./commands/sim.ts";
import train from "./commands/train.ts";
import verify from "./commands/verify.ts";
import { redactText } from "../schemas/index.ts";
import worker from "./commands/worker.ts";
import { FUSIOND_VERSION } from "./version.ts";


export function buildProgram(): Command {
  const program = new Command("fusiond")
    .description("Streaming sensor fusion for autonomous vehicles: ingest, align, fuse, decide, record, replay, simulate.")
    .version(FUSIOND_VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true);
  for (const register of [demo, run, sim, record, play, replay, info, recover, convert, train, evalCmd, exportCmd, echo, keygen, verify, signKeygen, worker, fleet]) register(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const e = err as { code?: string; message?: string };
  // Errors may quote a URL with its password, or a config: never print a secret (schemas/redact.ts).
  process.stderr.write(redactText(`fusiond: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ""}`) + "\n");
  process.exit(1);
}
