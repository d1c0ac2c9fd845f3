/**
 * The built-in rows (`classic`, `expert`) on the fleet: named, not read from a directory — their identity is
 * their code's hash, a worker runs their jobs with the single-process code and reports their own backend.
 */
import assert from "node:assert/strict";
import { FUSIOND_VERSION } from "../../../bin/version.ts";
import { JobExecutor } from "../../../eval/fleet/execute.ts";
import { planRun, fleetEvalRunner, type EvalRunSpec } from "../../../eval/fleet/run.ts";
import { modelMeta, modelMismatch } from "../../../eval/fleet/identity.ts";
import { decodeResult, type ClosedLoopJob } from "../../../eval/fleet/jobs.ts";
import type { JobTracker } from "../../../eval/fleet/tracker.ts";
import { runEpisodeInProcess, type EpisodeResult } from "../../../eval/run/closed-loop.ts";
import { loadEvalModel } from "../../../eval/run/decider.ts";
import { scenariosForSeeds } from "../../../eval/run/scenarios.ts";

describe("fleet: the built-in rows classic and expert", function () {
  this.timeout(300_000);

  it("have an identity without a directory: the hash the single-process report shows, a spec, a strategy", async () => {
    for (const name of ["classic", "expert"]) {
      const meta = modelMeta(name);
      const loaded = await loadEvalModel(name, "wasm");
      try {
        assert.equal(meta.id, name);
        assert.equal(meta.strategy, name);
        assert.equal(meta.ref.dir, name);
        assert.equal(meta.ref.hash, loaded.info.hash);
        assert.deepEqual(meta.spec.modalities, loaded.spec.modalities);
        assert.match(meta.ref.specHash, /^[0-9a-f]{16}$/);
        assert.equal(modelMismatch(meta.ref), undefined);
        assert.match(modelMismatch({ ...meta.ref, hash: "0123456789abcdef" })!, new RegExp(`built-in ${name} on this worker is hash ${meta.ref.hash}.*coordinator's code`));
        // The fleet's handle shows the model as the single-process run does (the backend comes from the worker).
        const h = await fleetEvalRunner({} as JobTracker, { eval: { backend: "auto", version: FUSIOND_VERSION } } as never).model(name);
        assert.deepEqual({ ...h.info, backend: "" }, { ...loaded.info, backend: "" });
      } finally {
        loaded.close();
      }
    }
    assert.notEqual(modelMeta("classic").ref.hash, modelMeta("expert").ref.hash);
  });

  it("plan into a run (the models of a fleet eval need no directory)", async () => {
    const spec: EvalRunSpec = {
      models: ["classic", "expert"],
      data: [],
      scenarios: scenariosForSeeds([3003], 5),
      suiteName: "seeds 3003",
      ablation: false,
      baselines: [],
      backend: "auto",
      maskUnused: true,
      bootstrap: { iterations: 100, level: 0.95, seed: 1 },
      parallel: 1,
      command: "test",
      version: FUSIOND_VERSION,
    };
    const a = await planRun("eval", spec, {}, 1);
    const b = await planRun("eval", { ...spec, models: ["classic"] }, {}, 1);
    assert.match(a.id, /^[0-9a-f]{12}$/);
    assert.notEqual(a.id, b.id);
  });

  it("a worker runs their closed-loop jobs as the single-process run does, with their own backend", async () => {
    const [spec] = scenariosForSeeds([3003], 4);
    const ex = new JobExecutor({ worker: "t", backend: "wasm" });
    try {
      for (const name of ["expert", "classic"]) {
        const job: ClosedLoopJob = { kind: "closed-loop", version: FUSIOND_VERSION, backend: "auto", model: modelMeta(name).ref, spec: spec!, mask: name === "classic" ? ["camera"] : [] };
        const ret = await ex.run(job);
        const local = await loadEvalModel(name, "wasm");
        try {
          const single = await runEpisodeInProcess(spec!, local, { mask: job.mask });
          assert.equal(ret.backend, local.info.backend);
          assert.deepEqual(decodeResult<EpisodeResult>(ret), JSON.parse(JSON.stringify(single)));
        } finally {
          local.close();
        }
      }
      // A job planned against other code is refused, with why.
      await assert.rejects(ex.run({ kind: "closed-loop", version: FUSIOND_VERSION, backend: "auto", model: { ...modelMeta("expert").ref, hash: "0123456789abcdef" }, spec: spec!, mask: [] }), /built-in expert/);
    } finally {
      ex.close();
    }
  });
});
