/** MQTT-style topic patterns (`+` one level, `#` the rest), shared by every transport. */
import { FusiondError } from "../schemas/index.ts";

export type TopicMatcher = (topic: string) => boolean;

/** Throws FusiondError `bad_pattern` unless the pattern is a valid MQTT topic filter. */
export function validatePattern(pattern: string): void {
  const levels = pattern.split("/");
  const bad =
    pattern.length === 0 ||
    levels.some((l, i) => (l.includes("#") && (l !== "#" || i !== levels.length - 1)) || (l.includes("+") && l !== "+"));
  if (bad) throw new FusiondError("bad_pattern", `"${pattern}" is not a topic pattern (use + for one level, # last for the rest)`, { pattern });
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One compiled matcher for a set of patterns (a regex test per message, no splitting on the hot path). */
export function compilePatterns(patterns: readonly string[]): TopicMatcher {
  for (const p of patterns) validatePattern(p);
  const alternatives = patterns.map((p) => {
    const levels = p.split("/");
    const multi = levels[levels.length - 1] === "#";
    const fixed = (multi ? levels.slice(0, -1) : levels).map((l) => (l === "+" ? "[^/]*" : escapeRe(l))).join("/");
    if (!multi) return fixed;
    return levels.length === 1 ? ".*" : `${fixed}(?:/.*)?`; // "a/#" also matches "a" itself (MQTT spec)
  });
  const re = new RegExp(`^(?:${alternatives.join("|")})$`);
  return (topic) => re.test(topic);
}

/**
 * The literal prefix of a pattern up to its first wildcard: what a ZeroMQ SUB socket can filter
 * on (ZeroMQ matches byte prefixes only; the exact match is done after receipt).
 */
export function literalPrefix(pattern: string): string {
  validatePattern(pattern);
  const levels = pattern.split("/");
  const wild = levels.findIndex((l) => l === "+" || l === "#");
  if (wild < 0) return pattern;
  return levels.slice(0, wild).map((l) => l + "/").join("");
}
