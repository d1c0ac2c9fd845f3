/**
 * The daemon's logger: JSON lines (pino) for machines and log collectors, or pino-pretty's one readable line
 * per event for a person at a terminal. "auto" picks pretty when stdout is a terminal, JSON otherwise.
 */
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

export const LOG_FORMATS = ["auto", "pretty", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** "auto" resolved against the output: pretty on a terminal, JSON otherwise. */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): "pretty" | "json" {
  return format === "auto" ? (isTTY ? "pretty" : "json") : format;
}

export function createLogger(o: { level: string; base: Record<string, unknown>; format: LogFormat; stream?: NodeJS.WritableStream & { isTTY?: boolean } }): Logger {
  const out = o.stream ?? process.stdout;
  if (resolveLogFormat(o.format, out.isTTY === true) === "json") return o.stream ? pino({ level: o.level, base: o.base }, out) : pino({ level: o.level, base: o.base });
  // Synchronous, in this thread: a log line is never lost to a crash right after it.
  const stream = pretty({ colorize: out.isTTY === true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", sync: true, destination: out });
  return pino({ level: o.level, base: o.base }, stream);
}
