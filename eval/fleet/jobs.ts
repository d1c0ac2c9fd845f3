/**
 * The fleet's jobs: one per recording (open loop, replay) or per closed-loop episode. A job's data says
 * what to compute and where the inputs live; its id is the identity of the computation (identity.ts), so
 * the same work submitted by any run, from any machine, is one job with one result.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import type { BackendChoice } from "../../fusion/index.ts";
import type { Modality } from "../../schemas/index.ts";
import type { ScenarioSpec } from "../../sim/scenario.ts";
import type { OpenLoopFilePart } from "../run/open-loop.ts";
import { identityOf, type ModelRef } from "./identity.ts";
import { packOpenLoopPart, unpackOpenLoopPart } from "./packed-part.ts";

/** The BullMQ queue every fleet job goes through (the key prefix separates installations and tests). */
export const QUEUE = "jobs";
export const DEFAULT_PREFIX = "fusiond";

/** A recording on storage every worker mounts, and the sha256 of its bytes. */
export interface RecordingRef {
  path: string;
  sha256: string;
}

interface JobBase {
  /** fusiond version that planned the job: a worker of another version refuses it (other code, other numbers). */
  version: string;
  model: ModelRef;
  backend: BackendChoice;
}

export interface OpenLoopJob extends JobBase {
  kind: "open-loop";
  recording: RecordingRef;
  mask: Modality[];
  /** The ablation's supervisor (no critical sensors) instead of the daemon's. */
  ablation: boolean;
}

export interface ClosedLoopJob extends JobBase {
  kind: "closed-loop";
  spec: ScenarioSpec;
  mask: Modality[];
}

/** The replay options that change a replay's report (ReplayOpts less what is local to one machine). */
export interface ReplayJobOptions {
  start?: string;
  end?: string;
  topics?: string[];
  ignore: string;
  tolerance: string;
  measured?: boolean;
  latency?: string;
  frames?: string;
  /** A road map file on shared storage, and its sha256. */
  map?: RecordingRef;
}

export interface ReplayJob extends JobBase {
  kind: "replay";
  recording: RecordingRef;
  options: ReplayJobOptions;
}

export type JobData = OpenLoopJob | ClosedLoopJob | ReplayJob;

const KIND_PREFIX = { "open-loop": "ol", "closed-loop": "cl", replay: "rp" } as const;

/** What a job computes, without where its files live. */
function identityPart(d: JobData): unknown {
  const model = { hash: d.model.hash, specHash: d.model.specHash };
  switch (d.kind) {
    case "open-loop":
      return { kind: d.kind, version: d.version, backend: d.backend, model, recording: d.recording.sha256, mask: [...d.mask].sort(), ablation: d.ablation };
    case "closed-loop":
      return { kind: d.kind, version: d.version, backend: d.backend, model, spec: d.spec, mask: [...d.mask].sort() };
    case "replay": {
      const { map, ...rest } = d.options;
      return { kind: d.kind, version: d.version, backend: d.backend, model, recording: d.recording.sha256, options: { ...rest, ...(map ? { map: map.sha256 } : {}) } };
    }
  }
}

/** The job's id: its kind and the identity of what it computes (no ':' — BullMQ reserves it). */
export const jobIdOf = (d: JobData): string => `${KIND_PREFIX[d.kind]}-${identityOf(identityPart(d))}`;

/** What a worker hands back: who ran it, on what, how long, and the result (gzip'd, base64). */
export interface JobReturn {
  worker: string;
  backend: string;
  ms: number;
  /** How `gz` is encoded: absent, JSON; "open-loop-part", packedPart's columns (open-loop results are big). */
  enc?: "open-loop-part";
  gz: string;
}

export const encodeResult = (v: unknown, meta: Omit<JobReturn, "gz">): JobReturn => ({
  ...meta,
  gz: gzipSync(JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)), { level: 6 }).toString("base64"),
});

/** An open-loop part, packed in columns (packed-part.ts): under half its JSON's size, both gzip'd. */
export const encodeOpenLoopPart = (part: OpenLoopFilePart, meta: Omit<JobReturn, "gz" | "enc">): JobReturn => ({
  ...meta,
  enc: "open-loop-part",
  gz: gzipSync(packOpenLoopPart(part), { level: 6 }).toString("base64"),
});

export function decodeResult<T>(r: JobReturn): T {
  const bytes = gunzipSync(Buffer.from(r.gz, "base64"));
  if (r.enc === "open-loop-part") return unpackOpenLoopPart(bytes) as T;
  return JSON.parse(bytes.toString("utf8")) as T;
}

/** A unit as people name it in progress lines and failures. */
export function unitName(d: JobData): string {
  if (d.kind === "closed-loop") return `${d.spec.name} (seed ${d.spec.seed})`;
  return d.recording.path;
}
