/**
 * The one error path of the CLI. Every failure of every command ends here and is printed as one line:
 *
 *   fusiond <command>: <what is wrong> (<what to do>)
 *
 * exit status 2 for a usage error (a bad flag, value or combination; commander's own parse errors too),
 * 1 for a failure while running (a file that is not there, a broker that does not answer). No stack trace
 * unless --verbose (or FUSIOND_VERBOSE=1). With --json the error is one JSON object on stderr instead:
 *   {"error":{"command":"sim","code":"bad_option","message":"...","hint":"...","exitCode":2}}
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { FusiondError } from "../schemas/index.ts";
import { redactText } from "../schemas/index.ts";

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** FusiondError codes that mean "the command line (or the config it names) is wrong": exit 2. */
const USAGE_CODES = new Set(["usage", "bad_option", "bad_config", "bad_rate", "bad_pattern", "bad_seeds", "bad_suite", "bad_remap", "config_unreadable"]);

/** A usage error: the command line is wrong. `hint` says what to do (default: see the command's --help). */
export class UsageError extends FusiondError {
  constructor(message: string, hint?: string) {
    super("usage", message, hint === undefined ? {} : { hint });
    this.name = "UsageError";
  }
}

/** Throws a usage error; for `cond || usage("...")` style checks. */
export function usage(message: string, hint?: string): never {
  throw new UsageError(message, hint);
}

/** What the error path prints, built from any thrown value. */
export interface CliErrorReport {
  command: string;
  code: string;
  message: string;
  hint: string;
  exitCode: number;
}

/** What to do about common system errors (Node's err.code), worded for a person at a shell. */
const SYSTEM_HINTS: Record<string, (path: string) => string> = {
  ENOENT: (p) => (p ? `check the path: ${p} does not exist` : "check the path"),
  EISDIR: (p) => `give a file, not a directory${p ? ` (${p})` : ""}`,
  ENOTDIR: () => "a part of the path is a file, not a directory",
  EACCES: (p) => `check the permissions${p ? ` of ${p}` : ""}`,
  EPERM: (p) => `check the permissions${p ? ` of ${p}` : ""}`,
  EEXIST: (p) => `remove ${p || "it"} or choose another path`,
  ENOSPC: () => "free some disk space",
  ECONNREFUSED: () => "is the server running at that address?",
  EADDRINUSE: () => "another process listens there: choose another port",
  ERR_SOCKET_BAD_PORT: () => "give a port from 0 to 65535",
};

const SYSTEM_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EEXIST: "already exists",
  ENOSPC: "no space left on device",
};

/** What to do about a failure, by FusiondError code, where the error itself does not say. */
const FAILURE_HINTS: Record<string, string> = {
  not_mcap: "give an MCAP recording (.mcap)",
  mcap_corrupt: "fusiond recover FILE --out FIXED.mcap rebuilds what can still be read",
  mcap_truncated: "fusiond recover FILE --out FIXED.mcap rebuilds what can still be read",
  empty_recording: "see what the file holds with fusiond info FILE",
  nothing_sent: "see the file's topics and span with fusiond info FILE",
  model_not_found: "fusiond models lists the models shipped and found here",
  model_incomplete: "fusiond models lists the models shipped and found here",
  model_corrupt: "train it again, or use a shipped model (fusiond models)",
  mqtt_connect_failed: "is the broker running at that address?",
  zmq_endpoint_failed: "check the endpoint, e.g. tcp://127.0.0.1:5555",
  backend_unavailable: "choose another --backend, e.g. cpu or wasm",
  open_failed: "check the path",
};

/** Rewrites commander's parse errors ("error: option '--lr <x>' argument 'abc' is invalid. a number") into our words. */
function commanderMessage(err: CommanderError): string {
  let m = err.message.replace(/^error: /, "");
  const opt = /^option '([^']*)' argument '(.*)' is invalid\. (.*)$/s.exec(m);
  if (opt) return `${/--[\w-]+/.exec(opt[1]!)?.[0] ?? opt[1]} must be ${opt[3]!.replace(/\.$/, "")}, not "${opt[2]}"`;
  const arg = /^command-argument value '(.*)' is invalid for argument '([^']+)'\. (.*)$/s.exec(m);
  if (arg) return `<${arg[2]}> must be ${arg[3]!.replace(/\.$/, "")}, not "${arg[1]}"`;
  m = m.replace(/\n/g, " ");
  return m;
}

/** Turns anything thrown by a command into the line (or JSON) the user sees. */
export function describeError(err: unknown, command: string): CliErrorReport {
  const help = `see fusiond${command ? ` ${command}` : ""} --help`;
  if (err instanceof CommanderError) {
    if (err.code === "commander.help" && err.exitCode !== 0) return { command, code: "usage", message: "give a command", hint: help, exitCode: EXIT_USAGE };
    const message = commanderMessage(err);
    const suggestion = /\((Did you mean [^)]*)\)/.exec(message);
    return {
      command,
      code: err.code,
      message: message.replace(/\s*\(Did you mean [^)]*\)/, ""),
      hint: suggestion ? `${suggestion[1]} ${help}` : help,
      exitCode: err.exitCode === 0 ? 0 : EXIT_USAGE,
    };
  }
  if (err instanceof FusiondError) {
    const usageError = USAGE_CODES.has(err.code);
    const file = typeof err.context["file"] === "string" ? err.context["file"] : "";
    if (err.code === "is_directory" && file && existsSync(join(file, "card.json"))) {
      return { command, code: err.code, message: `${file} is a model directory, not a recording`, hint: `fusiond models ${file} describes it`, exitCode: EXIT_FAILURE };
    }
    const hint = typeof err.context["hint"] === "string" ? err.context["hint"] : usageError ? help : systemHint(err.cause, err.context["file"]) || (FAILURE_HINTS[err.code] ?? "");
    // One line: a multi-line message (e.g. a config's list of problems) is joined with "; ".
    const message = err.message.replace(/:\n\s*/, ": ").replace(/\n\s*/g, "; ");
    return { command, code: err.code, message, hint: hint || "run again with --verbose for details", exitCode: usageError ? EXIT_USAGE : EXIT_FAILURE };
  }
  const e = (err ?? {}) as NodeJS.ErrnoException;
  if (typeof e.code === "string" && e.code in SYSTEM_HINTS) {
    const path = e.path ?? "";
    const text = SYSTEM_TEXT[e.code];
    const message = text ? `${path ? `${path}: ` : ""}${text}${e.syscall && !path ? ` (${e.syscall})` : ""}` : (e.message ?? String(err));
    return { command, code: e.code, message, hint: SYSTEM_HINTS[e.code]!(path), exitCode: EXIT_FAILURE };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { command, code: typeof e.code === "string" ? e.code : "failed", message: message.split("\n")[0]!, hint: "run again with --verbose for details", exitCode: EXIT_FAILURE };
}

function systemHint(cause: unknown, file: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code && code in SYSTEM_HINTS ? SYSTEM_HINTS[code]!(typeof file === "string" ? file : "") : "";
}

/** The one line: `fusiond <command>: <what is wrong> (<what to do>)`. */
export function errorLine(r: CliErrorReport): string {
  return `fusiond${r.command ? ` ${r.command}` : ""}: ${r.message} (${r.hint})`;
}

/** Prints the error (line or JSON, stack with verbose) on stderr and returns the exit status. */
export function reportError(err: unknown, o: { command: string; json: boolean; verbose: boolean; write?: (s: string) => void }): number {
  // Errors may quote a URL with its password, or a config: never print a secret (schemas/redact.ts).
  const out = o.write ?? ((s: string) => void process.stderr.write(s));
  const write = (s: string): void => out(redactText(s));
  const r = describeError(err, o.command);
  if (r.exitCode === 0) return 0;
  write(o.json ? JSON.stringify({ error: r }) + "\n" : errorLine(r) + "\n");
  if (o.verbose && err instanceof Error && err.stack) write(err.stack + "\n");
  return r.exitCode;
}

/** The subcommand the arguments name (the first word that is a command), or "" for the program itself. */
export function commandOf(program: Command, args: readonly string[]): string {
  const names = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  for (const a of args) {
    if (a === "--") break;
    if (a.startsWith("-")) continue;
    return names.has(a) ? (program.commands.find((c) => c.name() === a || c.aliases().includes(a))?.name() ?? a) : "";
  }
  return "";
}

/**
 * Routes commander's own errors through the error path: no printing of its own, a CommanderError thrown
 * instead of process.exit. Call after every command is registered (it configures each one).
 */
export function routeCommanderErrors(program: Command): Command {
  const configure = (c: Command): void => {
    c.exitOverride().configureOutput({ outputError: () => undefined }).showHelpAfterError(false);
    for (const sub of c.commands) configure(sub);
  };
  configure(program);
  return program;
}

/**
 * Parses argv and runs the command; every error goes through reportError. Resolves to the exit status of an
 * error, or undefined when none was thrown (the command set process.exitCode itself, if it wanted one).
 */
export async function runCli(program: Command, argv: readonly string[], write?: (s: string) => void): Promise<number | undefined> {
  const args = argv.slice(2);
  const command = commandOf(program, args);
  const json = args.includes("--json");
  const verbose = args.includes("--verbose") || process.env["FUSIOND_VERBOSE"] === "1";
  try {
    await program.parseAsync([...argv]);
    return undefined;
  } catch (err) {
    return reportError(err, { command, json, verbose, ...(write ? { write } : {}) });
  }
}
