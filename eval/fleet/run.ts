/**
 * A fleet run: the manifest of one `fusiond eval|replay ... --redis` invocation, kept in Redis so that
 * `fusiond fleet status|resume|cancel RUN` can find it from any machine, and the code that runs it —
 * submit every unit, follow them, merge with the single-process merge. The run id is the identity of the
 * manifest (what it computes), so submitting the same command again is the same run and re-uses results.
 */
import { resolve } from "node:path";
import type { BackendChoice } from "../../fusion/index.ts";
import type { EvalReport } from "../score/report.ts";
import { FusiondError, type Modality } from "../../schemas/index.ts";
import type { ReplayReport } from "../run/replay.ts";
import type { EpisodeResult } from "../run/closed-loop.ts";
import { evaluate, type EvalRunner, type EvaluateOptions, type ModelHandle, type Outcome } from "../run/evaluate.ts";
import type { OpenLoopFilePart } from "../run/open-loop.ts";
import { fileSha256, identityOf, modelMeta, type ModelRef } from "./identity.ts";
import type { ReplayJobOptions } from "./jobs.ts";
import type { JobOutcome, JobTracker } from "./tracker.ts";

export const RUN_SCHEMA = "fusiond.fleet-run/1";

/** The serialisable part of EvaluateOptions: everything the merge needs. */
export type EvalRunSpec = Pick<
  EvaluateOptions,
  "models" | "data" | "scenarios" | "suiteName" | "ablation" | "baselines" | "backend" | "maskUnused" | "bootstrap" | "parallel" | "timelineEpisode" | "command" | "version"
>;

/** The serialisable part of a run's options, as the fleet manifest keeps it. */
export function evalRunSpec(o: EvaluateOptions): EvalRunSpec {
  return {
    models: o.models,
    data: o.data,
    scenarios: o.scenarios,
    suiteName: o.suiteName,
    ablation: o.ablation,
    baselines: o.baselines,
    backend: o.backend,
    maskUnused: o.maskUnused,
    bootstrap: o.bootstrap,
    parallel: o.parallel,
    ...(o.timelineEpisode ? { timelineEpisode: o.timelineEpisode } : {}),
    command: o.command,
    version: o.version,
  };
}

export interface ReplayRunSpec {
  files: string[];
  model: string;
  backend: BackendChoice;
  /** As ReplayJobOptions, with the map as a path. */
  options: Omit<ReplayJobOptions, "map"> & { map?: string };
  version: string;
}

export interface RunOutputs {
  out?: string;
  html?: string;
  json?: boolean;
}

export interface RunManifest {
  schema: typeof RUN_SCHEMA;
  id: string;
  kind: "eval" | "replay";
  created: string;
  attempts: number;
  /** path → sha256 of every recording (and road map) the run reads, hashed once at submission. */
  files: Record<string, string>;
  eval?: EvalRunSpec;
  replay?: ReplayRunSpec;
  outputs: RunOutputs;
}

export type RunState = "running" | "done" | "failed" | "cancelled";

/** Builds a run's manifest: hashes its files (once) and derives its id from what it computes. */
export async function planRun(kind: "eval" | "replay", spec: EvalRunSpec | ReplayRunSpec, outputs: RunOutputs, attempts: number): Promise<RunManifest> {
  const paths = kind === "eval" ? (spec as EvalRunSpec).data : [...(spec as ReplayRunSpec).files, ...((spec as ReplayRunSpec).options.map ? [(spec as ReplayRunSpec).options.map!] : [])];
  const files: Record<string, string> = {};
  for (const p of paths) files[p] ??= await fileSha256(p);
  const models = kind === "eval" ? [...(spec as EvalRunSpec).models, ...(spec as EvalRunSpec).baselines] : [(spec as ReplayRunSpec).model];
  const modelIds = Object.fromEntries(models.map((d) => [d, modelMeta(d).ref]));
  const { command: _c, ...what } = spec as EvalRunSpec;
  const id = identityOf({ kind, what, files, modelIds }).slice(0, 12);
  const abs: RunOutputs = { ...(outputs.out ? { out: resolve(outputs.out) } : {}), ...(outputs.html ? { html: resolve(outputs.html) } : {}), ...(outputs.json ? { json: true } : {}) };
  return { schema: RUN_SCHEMA, id, kind, created: new Date().toISOString(), attempts, files, ...(kind === "eval" ? { eval: spec as EvalRunSpec } : { replay: spec as ReplayRunSpec }), outputs: abs };
}

const runKey = (prefix: string, id: string): string => `${prefix}:fleet:run:${id}`;

export async function saveRun(t: JobTracker, prefix: string, m: RunManifest): Promise<void> {
  await t.redis.send("HSET", [runKey(prefix, m.id), "manifest", JSON.stringify(m), "state", "running", "updated", new Date().toISOString()]);
  await t.redis.send("ZADD", [`${prefix}:fleet:runs`, Date.now(), m.id]);
}

export async function loadRun(t: JobTracker, prefix: string, id: string): Promise<{ manifest: RunManifest; state: RunState }> {
  const [text, state] = (await t.redis.send("HMGET", [runKey(prefix, id), "manifest", "state"])) as [string | null, string | null];
  if (!text) throw new FusiondError("run_not_found", `no fleet run ${id} under prefix ${prefix} (fusiond fleet status lists the runs)`, { id, prefix });
  return { manifest: JSON.parse(text) as RunManifest, state: (state ?? "running") as RunState };
}

export async function setRunState(t: JobTracker, prefix: string, id: string, state: RunState): Promise<void> {
  await t.redis.send("HSET", [runKey(prefix, id), "state", state, "updated", new Date().toISOString()]);
}

export async function listRuns(t: JobTracker, prefix: string): Promise<string[]> {
  return (await t.redis.send("ZRANGE", [`${prefix}:fleet:runs`, 0, -1])) as string[];
}

const outcome = <T>(o: JobOutcome<T>): Outcome<T> => (o.ok ? { ok: true, value: o.value } : { ok: false, reason: o.reason });

/** An EvalRunner whose units are fleet jobs: every pass submitted at once, models never loaded here. */
export function fleetEvalRunner(t: JobTracker, m: RunManifest): EvalRunner {
  const spec = m.eval!;
  const refs = new Map<ModelHandle, ModelRef>();
  const common = (h: ModelHandle) => ({ version: spec.version, backend: spec.backend, model: refs.get(h)! });
  // The report shows the backend the workers chose (the single-process run shows its own).
  const noteBackend = (h: ModelHandle, o: JobOutcome<unknown>): void => {
    if (o.ok) h.info.backend = o.ret.backend;
  };
  return {
    concurrent: true,
    async model(dir) {
      const meta = modelMeta(dir);
      const h: ModelHandle = { info: { id: meta.id, hash: meta.ref.hash, dir, strategy: meta.strategy, modalities: [...meta.spec.modalities], backend: spec.backend }, spec: meta.spec };
      refs.set(h, meta.ref);
      return h;
    },
    release: () => undefined,
    openLoop(files, h, s) {
      return Promise.all(
        files.map(async (f) => {
          const o = await t.submit<OpenLoopFilePart>({ kind: "open-loop", ...common(h), recording: { path: f, sha256: m.files[f]! }, mask: s.mask, ablation: s.ablation });
          noteBackend(h, o);
          return outcome(o);
        }),
      );
    },
    closedLoop(specs, h, s) {
      return Promise.all(
        specs.map(async (sp) => {
          const o = await t.submit<EpisodeResult>({ kind: "closed-loop", ...common(h), spec: sp, mask: s.mask as Modality[] });
          noteBackend(h, o);
          return outcome(o);
        }),
      );
    },
  };
}

/** Runs an eval manifest on the fleet and merges: the report `fusiond eval` writes. */
export async function runEvalOnFleet(t: JobTracker, m: RunManifest, log: (s: string) => void): Promise<EvalReport> {
  const spec = m.eval!;
  const { report } = await Promise.race([
    evaluate({ ...spec, transport: "in-process", runner: fleetEvalRunner(t, m), log }),
    t.cancelledP.then((): never => {
      throw new FusiondError("run_cancelled", `fleet run ${m.id} was cancelled`, { id: m.id });
    }),
  ]);
  return report;
}

export type ReplayOutcome = { file: string; ok: true; report: ReplayReport } | { file: string; ok: false; reason: string };

/** Runs a replay manifest on the fleet: one outcome per file, in file order. */
export async function runReplayOnFleet(t: JobTracker, m: RunManifest): Promise<ReplayOutcome[]> {
  const spec = m.replay!;
  const ref = modelMeta(spec.model).ref;
  const { map, ...options } = spec.options;
  const all = Promise.all(
    spec.files.map(async (file): Promise<ReplayOutcome> => {
      const o = await t.submit<ReplayReport>({
        kind: "replay",
        version: spec.version,
        backend: spec.backend,
        model: ref,
        recording: { path: file, sha256: m.files[file]! },
        options: { ...options, ...(map ? { map: { path: map, sha256: m.files[map]! } } : {}) },
      });
      // The report names the file and model as this run gave them (a re-used result may come from another path).
      return o.ok ? { file, ok: true, report: { ...o.value, file, model: { ...o.value.model, dir: spec.model } } } : { file, ok: false, reason: o.reason };
    }),
  );
  return Promise.race([
    all,
    t.cancelledP.then((): never => {
      throw new FusiondError("run_cancelled", `fleet run ${m.id} was cancelled`, { id: m.id });
    }),
  ]);
}
