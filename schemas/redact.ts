/**
 * Redaction of secrets — passwords, key passphrases, tokens, secret and private keys, URL userinfo — from
 * anything fusiond stores or prints: recorded metadata (the daemon config), `fusiond info`, `run
 * --print-config`, errors that echo a URL, logs and health endpoints. One list of secret key names, one
 * function per shape (value, config text, free text, a URL's userinfo, secrets known by value), so every
 * output is redacted by the same rules.
 *
 * It lives in schemas/ because every layer that prints or stores something (sensors, pipeline, replay,
 * bin) may import schemas/ and nothing else of ours. Pure: no I/O.
 */
import { isPair, isScalar, parseDocument, visit, type Document } from "yaml";

/** What a secret is replaced with. */
export const REDACTED = "[redacted]";

/**
 * Words that make a key name secret, matched in the name lower-cased with `-`, `_`, `.` and spaces
 * removed: `mqtt.password`, `keyPassphrase`, `bearer_token`, `curveSecretKey`, `api-key`, `privateKey`.
 */
export const SECRET_KEY_WORDS: readonly string[] = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "apikey",
  "accesskey",
  "privatekey",
  "credential",
  "authorization",
  "cookie",
];
/** Key names that are secret on their own (`key` is a PEM private key in TLS options; `pass`, `pwd`, `auth`). */
const SECRET_KEY_NAMES = new Set(["key", "pass", "pwd", "auth", "bearer"]);
/** A name that ends like this names where a secret is, not the secret (`keyFile`, `tokenPath`, `secretDir`). */
const NOT_SECRET_SUFFIX = /(file|path|dir|filename|env)$/;

const normalise = (key: string): string => key.toLowerCase().replace(/[-_.\s]/g, "");

/** True when the value stored under `key` is a secret (see SECRET_KEY_WORDS). */
export function isSecretKey(key: string): boolean {
  const k = normalise(key);
  if (k === "" || NOT_SECRET_SUFFIX.test(k)) return false;
  return SECRET_KEY_NAMES.has(k) || SECRET_KEY_WORDS.some((w) => k.includes(w));
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s?#@"'<>]*@/gi;
const URL_QUERY_PARAM = /([?&;])([^=&#\s"'<>]+)=([^&#\s"'<>]*)/g;
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----[\s\S]*?(?:-----END \1-----|$)/g;
// key: value / key=value / "key": "value" in free text (an error quoting a config, a command line).
const KEY_VALUE = new RegExp(
  String.raw`(["']?)([A-Za-z0-9_.-]*(?:${SECRET_KEY_WORDS.map((w) => (w.length > 6 ? w.replace(/(key)$/, "[-_.]?$1") : w)).join("|")})[A-Za-z0-9_.-]*)\1(\s*[:=]\s*)(\[redacted\]|"[^"]*"|'[^']*'|[^\s,;&}\]]+)`,
  "gi",
);

/**
 * The URL without its userinfo (`mqtt://user:secret@host` → `mqtt://host`), for logs and errors: a
 * password given in the URL must never be printed. Anything unparsable is cut at the last "@".
 */
export function withoutUserinfo(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
  } catch {
    const at = url.lastIndexOf("@");
    const scheme = url.indexOf("://");
    return at > scheme && scheme >= 0 ? url.slice(0, scheme + 3) + url.slice(at + 1) : url;
  }
}

/**
 * Replaces every occurrence of each known secret value in `text` with REDACTED, however short the secret: for
 * text whose secrets are known by value rather than by key (an mqtt.js error message, config text as read).
 */
export function cutSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  return out;
}

/**
 * Free text (an error message, a log line, a URL) with secrets redacted: URL userinfo, secret query
 * parameters, PEM private keys, and `secret-key: value` / `secret-key=value` pairs.
 */
export function redactText(text: string): string {
  if (text.length === 0) return text;
  return text
    .replace(PEM_PRIVATE_KEY, `${REDACTED} PEM private key`)
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(URL_QUERY_PARAM, (all, sep: string, name: string) => (isSecretKey(decodeSafe(name)) ? `${sep}${name}=${REDACTED}` : all))
    .replace(KEY_VALUE, (all, q: string, name: string, eq: string, value: string) => {
      if (!isSecretKey(name) || value.includes(REDACTED)) return all;
      const quote = value[0] === '"' || value[0] === "'" ? value[0] : "";
      return `${q}${name}${q}${eq}${quote}${REDACTED}${quote}`;
    });
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A deep copy of `value` in which every value under a secret key (whatever its type, objects included) is
 * REDACTED and every string is passed through `redactText`. Walks plain objects, arrays and Maps; other
 * objects (Dates, Buffers, class instances) are returned as they are; cycles become "[circular]".
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, new WeakSet()) as T;
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (Array.isArray(value)) {
    seen.add(value);
    const out = value.map((v) => walk(v, seen));
    seen.delete(value);
    return out;
  }
  if (value instanceof Map) {
    seen.add(value);
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) out.set(k, typeof k === "string" && isSecretKey(k) ? REDACTED : walk(v, seen));
    seen.delete(value);
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : walk(v, seen);
  seen.delete(value);
  return out;
}

/**
 * Config text (YAML or JSON, as `fusiond run --config` reads it) with every value under a secret key
 * replaced by REDACTED and every string passed through `redactText`; comments and layout are kept. Text
 * that does not parse is redacted line by line (`key: value`, `key=value`, URLs).
 */
export function redactConfigText(text: string): string {
  let doc: Document;
  try {
    doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false });
  } catch {
    return redactText(text);
  }
  if (doc.errors.length > 0) return redactText(text);
  let changed = false;
  visit(doc, {
    Pair(_key, pair) {
      if (!isPair(pair) || !isScalar(pair.key) || !isSecretKey(String(pair.key.value))) return undefined;
      if (isScalar(pair.value) && pair.value.value === REDACTED) return visit.SKIP;
      pair.value = doc.createNode(REDACTED);
      changed = true;
      return visit.SKIP;
    },
    Scalar(_key, node) {
      if (typeof node.value !== "string") return;
      const r = redactText(node.value);
      if (r !== node.value) {
        node.value = r;
        changed = true;
      }
    },
  });
  // Comments are kept by yaml; a secret in a comment is caught by the text pass.
  return redactText(changed ? doc.toString({ lineWidth: 0 }) : text);
}

/**
 * Recording metadata (name → key → value, as MCAP stores it) with secrets redacted: a `config` value as
 * config text, other values under secret keys replaced, every value's text redacted.
 */
export function redactMetadata(metadata: Record<string, Record<string, string>>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [name, values] of Object.entries(metadata)) out[name] = redactMetadataValues(values);
  return out;
}

/** One metadata record's values with secrets redacted (see redactMetadata). */
export function redactMetadataValues<T extends Record<string, string | undefined>>(values: T): T {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) out[k] = v;
    else if (isSecretKey(k)) out[k] = REDACTED;
    else if (k === "config") out[k] = redactConfigText(v);
    else out[k] = redactText(v);
  }
  return out as T;
}

/**
 * A copy of a parsed config with every key whose value is REDACTED removed, so a recorded (redacted)
 * config still validates where the secret had a format (replay reads vehicle and aligner settings only).
 */
export function dropRedacted<T>(value: T): T {
  if (Array.isArray(value)) return value.map(dropRedacted) as T;
  if (value === null || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== REDACTED) out[k] = dropRedacted(v);
  return out as T;
}
