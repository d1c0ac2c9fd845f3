/** Reads a message's event stamp from the field the topic registry names. */
import { timestampToNs, type TimestampLike } from "./time.ts";

/** The event stamp in ns, or undefined if the message has no such timestamp (or it is zero). */
export function eventStampNs(message: object, stampField: string): bigint | undefined {
  const ts = (message as Record<string, TimestampLike | null | undefined>)[stampField];
  if (!ts) return undefined;
  const ns = timestampToNs(ts);
  return ns > 0n ? ns : undefined;
}
