/**
 * The ModelRunner on ONNX Runtime (backends `onnx`: the CPU execution provider, `onnx-webgpu`: the WebGPU one).
 * It runs the model directory's model.onnx (written by `fusiond train` / `fusiond export`), checked against the
 * sha256 and model hash in the card, so a decision recorded with the tfjs model's hash was made by that model.
 * Queueing, micro-batching and stats are BatchingRunner's, as for TF.js.
 */
import { FusiondError } from "../../schemas/index.ts";
import { sizeOf } from "../features/config.ts";
import { stackInputs } from "../features/frame.ts";
import type { LoadedModel } from "../model/model-dir.ts";
import { readOnnxFile } from "../model/onnx-file.ts";
import { sessionOptions, type OrtSession, type OrtTarget } from "./onnx-runtime.ts";
import { BatchingRunner, type ModelRunner, type RunnerOptions } from "./runner.ts";

export class OnnxModelRunner extends BatchingRunner {
  /** Loads model.onnx of `loaded` (and of its command recogniser) into sessions on `target`. */
  static async create(loaded: LoadedModel, target: OrtTarget, opts: RunnerOptions): Promise<OnnxModelRunner> {
    const file = readOnnxFile(loaded.dir, loaded.card.onnx, loaded.hash);
    if ("error" in file) throw new FusiondError("onnx_model_unavailable", `model ${loaded.id} cannot run on ${target.name}: ${file.error}`, { dir: loaded.dir });
    let session: OrtSession;
    try {
      session = await target.ort.InferenceSession.create(file.bytes, sessionOptions(target));
    } catch (err) {
      throw new FusiondError("onnx_session_failed", `model ${loaded.id}: ONNX Runtime (${target.executionProvider}) could not load model.onnx: ${(err as Error).message}`, { dir: loaded.dir }, { cause: err });
    }
    if (session.inputNames.length !== loaded.spec.inputs.length || session.outputNames.length !== 1) {
      await session.release();
      throw new FusiondError("model_spec_mismatch", `model ${loaded.id}: model.onnx has ${session.inputNames.length} inputs and ${session.outputNames.length} outputs; the spec has ${loaded.spec.inputs.length} inputs and the model one output (re-export it: fusiond export --model ${loaded.dir})`, { dir: loaded.dir });
    }
    const commands = loaded.commands ? await OnnxModelRunner.create(loaded.commands, target, { ...opts, onLatency: () => {} }) : undefined;
    return new OnnxModelRunner(loaded, target, session, opts, commands);
  }

  private readonly nClasses: number;

  private constructor(
    private readonly loaded: LoadedModel,
    private readonly target: OrtTarget,
    private readonly session: OrtSession,
    opts: RunnerOptions,
    readonly commands?: ModelRunner,
  ) {
    super(loaded.id, loaded.hash, target.name, loaded.spec, opts);
    this.nClasses = loaded.model.outputs[0]!.shape[1] as number;
  }

  protected get classes(): number {
    return this.nClasses;
  }

  /**
   * Per input, a buffer of maxBatch samples that every batch is stacked into (see predictBatch), or undefined
   * before the first batch. One batch runs at a time (BatchingRunner), and ORT reads its inputs within the call.
   */
  private stacked: Float32Array[] | undefined;

  protected async predictBatch(rows: Record<string, Float32Array>[]): Promise<Float32Array> {
    const feeds: Record<string, ReturnType<typeof this.tensor>> = {};
    if (rows.length > this.maxBatch) {
      stackInputs(rows, this.spec).forEach((b, i) => (feeds[this.session.inputNames[i]!] = this.tensor(b.data, b.shape)));
    } else {
      // The same bytes as stackInputs, into buffers kept from one batch to the next: no allocation (and no
      // zero-fill and garbage) of a batch's inputs — ~0.5 MB at b32 for models/default.
      const n = rows.length;
      this.stacked ??= this.spec.inputs.map((input) => new Float32Array(this.maxBatch * sizeOf(input.shape)));
      this.spec.inputs.forEach((input, i) => {
        const size = sizeOf(input.shape);
        const buf = this.stacked![i]!;
        rows.forEach((r, k) => buf.set(r[input.name]!, k * size));
        feeds[this.session.inputNames[i]!] = this.tensor(buf.subarray(0, n * size), [n, ...input.shape]);
      });
    }
    const out = await this.session.run(feeds);
    return out[this.session.outputNames[0]!]!.data as Float32Array;
  }

  private tensor(data: Float32Array, dims: number[]) {
    return new this.target.ort.Tensor("float32", data, dims);
  }

  override async warmup(): Promise<void> {
    await super.warmup();
    await this.commands?.warmup();
  }

  override close(): void {
    super.close();
    this.commands?.close();
    void this.session.release();
    this.loaded.model.dispose();
  }
}
