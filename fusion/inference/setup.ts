/**
 * One call for a composition root (bin/): select the backend (logged, overridable), load and check the
 * primary model and its fallbacks (errors at load time, never at the first frame), warm the runners up,
 * and return the DecisionEngine the pipeline's decide stage calls.
 */
import { loadModelDir } from "../model/model-dir.ts";
import type { MapView } from "../features/gnss.ts";
import { DecisionEngine } from "../policy/engine.ts";
import type { SupervisorConfig } from "../policy/supervisor.ts";
import { nodeBackendEnv, selectBackend, type BackendChoice, type BackendSelection } from "./backends.ts";
import { createModelRunner, modelProbe } from "./make-runner.ts";
import type { ModelRunner, RunnerOptions } from "./runner.ts";

export interface EngineSetup {
  /** Model directory (default: models/default). */
  model?: string;
  /** Fallback model directories (e.g. models/no-camera). */
  fallbacks?: string[];
  backend?: BackendChoice;
  supervisor?: SupervisorConfig;
  map?: MapView;
  vehicleId?: string;
  /** Scheduler time, ns, in the domain of the frames' receive stamps. */
  nowNs: () => bigint;
  runner: RunnerOptions;
  log?: (line: string) => void;
}

export async function createDecisionEngine(o: EngineSetup): Promise<{ engine: DecisionEngine; backend: BackendSelection; close: () => void }> {
  const modelDir = o.model ?? "models/default";
  const backend = await selectBackend(o.backend ?? "auto", nodeBackendEnv(), modelProbe(modelDir, o.runner.now));
  for (const line of backend.log) o.log?.(`backend ${line}`);
  const primary = await createModelRunner(await loadModelDir(modelDir), backend, o.runner);
  const fallbacks: ModelRunner[] = [];
  for (const dir of o.fallbacks ?? []) fallbacks.push(await createModelRunner(await loadModelDir(dir), backend, o.runner));
  for (const r of [primary, ...fallbacks]) {
    await r.warmup();
    o.log?.(`model ${r.modelId} (${r.modelHash}) on ${r.backend}: ${r.spec.modalities.join("+")}`);
  }
  const engine = new DecisionEngine({
    primary,
    fallbacks,
    nowNs: o.nowNs,
    ...(o.supervisor ? { supervisor: o.supervisor } : {}),
    ...(o.map ? { map: o.map } : {}),
    ...(o.vehicleId ? { vehicleId: o.vehicleId } : {}),
  });
  return { engine, backend, close: () => [primary, ...fallbacks].forEach((r) => r.close()) };
}
