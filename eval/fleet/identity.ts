/**
 * Identity of fleet work: a job's id is the hash of what it computes — the recording's content (or the
 * scenario, seed included), the model's weights and input spec, the options that change the result, and
 * the fusiond version — never where the files live. The same work submitted twice is one job; a result
 * computed once is re-used by every run that needs it.
 */
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { CARD_JSON, INPUT_SPEC_JSON, MODEL_JSON, VOICE_COMMAND_DIR, WEIGHTS_BIN, hashModelFiles, type InputSpec, type ModelCard } from "../../fusion/index.ts";
import { FusiondError } from "../../schemas/index.ts";
import { builtinMeta } from "../run/builtins.ts";

/** JSON with object keys sorted at every level: equal values, equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
  }
  if (typeof v === "bigint") return JSON.stringify(v.toString());
  return JSON.stringify(v ?? null);
}

/** 128 bits of sha256 over the canonical JSON, hex. */
export const identityOf = (v: unknown): string => createHash("sha256").update(canonicalJson(v)).digest("hex").slice(0, 32);

/** sha256 of a file's bytes, hex (read once, streamed). */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  } catch (err) {
    throw new FusiondError("recording_unreadable", `cannot read ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  return h.digest("hex");
}

/** A model as fleet jobs name it: where it is on shared storage, and what it must be there. */
export interface ModelRef {
  dir: string;
  /** hashModelFiles: model.json + weights (and the command recogniser's), as reports and decisions show it. */
  hash: string;
  /** sha256 (16 hex) of input-spec.json: the features the model reads. */
  specHash: string;
}

export interface ModelMeta {
  ref: ModelRef;
  id: string;
  strategy: string;
  spec: InputSpec;
}

/**
 * Reads a model directory's identity and card without loading TF.js (the coordinator needs no backend). The
 * built-in rows (`classic`, `expert`) are named, not read: their hash is their code's (eval/run/builtins.ts),
 * and a worker of another version of that code refuses their jobs as it does changed model files.
 */
export function modelMeta(dir: string): ModelMeta {
  const builtin = builtinMeta(dir);
  if (builtin) {
    const specHash = createHash("sha256").update(canonicalJson(builtin.spec)).digest("hex").slice(0, 16);
    return { ref: { dir, hash: builtin.hash, specHash }, id: builtin.id, strategy: builtin.strategy, spec: builtin.spec };
  }
  let specText: string;
  let card: ModelCard;
  let hash: string;
  try {
    specText = readFileSync(join(dir, INPUT_SPEC_JSON), "utf8");
    card = JSON.parse(readFileSync(join(dir, CARD_JSON), "utf8")) as ModelCard;
    hash = hashModelFiles(dir);
  } catch (err) {
    throw new FusiondError("model_not_found", `${dir} is not a readable model directory (model.json, weights.bin, ${INPUT_SPEC_JSON}, ${CARD_JSON}): ${(err as Error).message}`, { dir });
  }
  const specHash = createHash("sha256").update(specText).digest("hex").slice(0, 16);
  return { ref: { dir, hash, specHash }, id: card.name || basename(dir), strategy: card.strategy || "unknown", spec: JSON.parse(specText) as InputSpec };
}

/**
 * Why the model files at `ref.dir` on this machine are not the ones the job was planned with, or undefined
 * when they are.
 */
export function modelMismatch(ref: ModelRef): string | undefined {
  let here: ModelRef;
  try {
    here = modelRefHere(ref.dir);
  } catch (err) {
    return `model ${ref.dir} cannot be read on this worker: ${(err as Error).message}`;
  }
  if (builtinMeta(ref.dir) && (here.hash !== ref.hash || here.specHash !== ref.specHash)) {
    return `the built-in ${ref.dir} on this worker is hash ${here.hash} (spec ${here.specHash}), the run was planned with ${ref.hash} (spec ${ref.specHash}): run workers from the coordinator's code (or resubmit the run)`;
  }
  if (here.hash !== ref.hash || here.specHash !== ref.specHash) {
    return `model files at ${ref.dir} on this worker are hash ${here.hash} (spec ${here.specHash}), the run was planned with ${ref.hash} (spec ${ref.specHash}): sync the model directory to this machine (or resubmit the run against the new model)`;
  }
  return undefined;
}

/**
 * The files a model's hashes cover, as stat sees them (size, times, inode): equal only while no byte of
 * them can have changed — a write moves ctime, which no one can set back.
 */
function statSignature(dir: string): { signature: string; newestCtimeMs: number } {
  const files = [MODEL_JSON, WEIGHTS_BIN, INPUT_SPEC_JSON, join(VOICE_COMMAND_DIR, MODEL_JSON), join(VOICE_COMMAND_DIR, WEIGHTS_BIN)];
  let newestCtimeMs = 0;
  const signature = files
    .map((f) => {
      try {
        const st = statSync(join(dir, f), { bigint: true });
        newestCtimeMs = Math.max(newestCtimeMs, Number(st.ctimeNs / 1_000_000n));
        return `${f}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      } catch {
        return `${f}:-`;
      }
    })
    .join("|");
  return { signature, newestCtimeMs };
}

/** Files changed this recently may change again within the file system's clock tick, unseen by stat. */
const SETTLED_MS = 2000;

const refsHere = new Map<string, { signature: string; ref: ModelRef }>();

/**
 * modelMeta(dir).ref, hashed again only when the files changed: a worker checks the model of every job, and
 * hashing the weights (18 ms for models/default on this machine) would cost a short job a few percent.
 */
function modelRefHere(dir: string): ModelRef {
  const before = statSignature(dir);
  const known = refsHere.get(dir);
  if (known?.signature === before.signature) return known.ref;
  const ref = modelMeta(dir).ref;
  // Remembered only if nothing changed while hashing and the files have settled (as git does with racily
  // clean files): a write in the same clock tick as the last one would leave the signature as it was.
  const after = statSignature(dir);
  if (after.signature === before.signature && Date.now() - after.newestCtimeMs > SETTLED_MS) refsHere.set(dir, { signature: after.signature, ref });
  else refsHere.delete(dir);
  return ref;
}
