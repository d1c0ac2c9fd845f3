/**
 * The fusion strategies behind one interface (the taxonomy of the multimodal literature):
 *  - early:        raw features of every modality joined, one MLP;
 *  - intermediate: per-modality encoders, joined embeddings, a shared head;
 *  - late:         per-modality encoders and heads, class logits combined by learned, presence-dependent weights;
 *  - attention:    per-modality encoders as tokens attending to each other (cross-modal attention).
 * Every layer is matMul-based (patch embeddings, dense, attention, layer norm), so models train and run on wasm.
 * Encoder layers are named `<modality>_enc_*`, so a unimodal encoder pretrained on its own task can be copied in.
 */
import * as tf from "@tensorflow/tfjs";
import { MODALITIES, type Modality } from "../../schemas/index.ts";
import type { InputName, InputSpec } from "../features/config.ts";
import { NUM_ACTIONS } from "../actions.ts";
import { CameraSlotMask, CameraSlotPool, GatedLateFusion, ModalityAttention, ModalityGate } from "./layers.ts";

export const STRATEGIES = ["early", "intermediate", "late", "attention"] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export interface BuildOptions {
  /** Seed of every initializer (each layer gets seed + its index). */
  seed: number;
  /** Embedding width per modality. */
  units?: number;
  /** Number of output classes (default: the driving actions). */
  classes?: number;
  /**
   * Hidden layer widths of the shared head (early, intermediate, attention), first to last; default [64].
   * Deeper heads mix the modalities more (e.g. ego speed against a radar gap against the map's limit).
   */
  head?: readonly number[];
}

export const DEFAULT_HEAD: readonly number[] = [64];

export interface FusionStrategy {
  readonly name: StrategyName;
  readonly description: string;
  build(spec: InputSpec, options: BuildOptions): tf.LayersModel;
}

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;

/** Seeded initializer factory: every call gives a new deterministic seed. */
export class Seeds {
  private n = 0;
  constructor(private readonly base: number) {}
  next(): number {
    return this.base * 1000 + ++this.n;
  }
  glorot(): ReturnType<typeof tf.initializers.glorotUniform> {
    return tf.initializers.glorotUniform({ seed: this.next() });
  }
}

const dense = (s: Seeds, units: number, name: string, activation: "relu" | "softmax" | "linear" = "relu") =>
  tf.layers.dense({ units, activation, name, kernelInitializer: s.glorot() });

/** Model inputs, keyed by name, in the spec's order. */
export function specInputs(spec: InputSpec): { list: Sym[]; byName: Partial<Record<InputName, Sym>> } {
  const byName: Partial<Record<InputName, Sym>> = {};
  const list = spec.inputs.map((i) => (byName[i.name] = tf.input({ shape: i.shape, name: i.name })));
  return { list, byName };
}

const presenceIndex = (m: Modality): number => MODALITIES.indexOf(m);

/** The encoder of one modality → embedding [B, units] (not yet gated). */
export function encode(m: Modality, x: Partial<Record<InputName, Sym>>, s: Seeds, units: number): Sym {
  const need = (n: InputName): Sym => {
    const t = x[n];
    if (!t) throw new Error(`encoder ${m} needs input ${n}`);
    return t;
  };
  switch (m) {
    case "camera": {
      if (need("camera").shape.length === 4) return encodeCameraSlots(need("camera"), need("camera_mask"), s, units);
      const patches = apply(dense(s, 16, "camera_enc_patch"), need("camera")); // patch embedding [B, P, 16]
      // No layer norm here: tfjs-layers' LayerNormalization gradient costs ~4x the whole model on wasm.
      return apply(dense(s, units, "camera_enc_out"), apply(tf.layers.flatten({ name: "camera_enc_flat" }), patches));
    }
    case "radar": {
      const perReturn = apply(dense(s, 32, "radar_enc_point"), need("radar_points")); // [B, K, 32], ≥ 0
      const masked = apply(tf.layers.multiply({ name: "radar_enc_mask" }), [perReturn, need("radar_point_mask")]);
      const pooled = apply(tf.layers.globalMaxPooling1d({ name: "radar_enc_pool" }), masked); // exact: masked rows are 0
      const joined = apply(tf.layers.concatenate({ name: "radar_enc_join" }), [pooled, need("radar_summary")]);
      return apply(dense(s, units, "radar_enc_out"), joined);
    }
    case "gnss":
      return apply(dense(s, units, "gnss_enc_out"), apply(dense(s, 16, "gnss_enc_hidden"), need("gnss")));
    case "ego":
      return apply(dense(s, units, "ego_enc_out"), apply(dense(s, 16, "ego_enc_hidden"), need("ego")));
    case "voice": {
      const frames = apply(dense(s, 24, "voice_enc_frame"), need("voice")); // [B, T, 24]
      return apply(dense(s, units, "voice_enc_out"), apply(tf.layers.flatten({ name: "voice_enc_flat" }), frames));
    }
  }
}

/**
 * Several cameras (config.cameras): one camera encoder shared by every slot (the same layers and names as the
 * single camera's, so a pretrained one copies in), then CameraSlotPool adds each camera's learned embedding
 * and averages the slots the camera mask [B, N] keeps: a failed camera masks only its own slot.
 */
function encodeCameraSlots(camera: Sym, mask: Sym, s: Seeds, units: number): Sym {
  const [, slots, patches] = camera.shape as number[];
  const embedded = apply(dense(s, 16, "camera_enc_patch"), camera); // [B, N, P, 16]
  const flat = apply(tf.layers.reshape({ targetShape: [slots!, patches! * 16], name: "camera_enc_flat" }), embedded);
  const perSlot = apply(dense(s, units, "camera_enc_out", "linear"), flat); // [B, N, units]
  return apply(new CameraSlotPool({ seed: s.next(), name: "camera_enc_pool" }), [perSlot, mask]);
}

/** Encoder embeddings of every modality of the spec, each multiplied by its presence mask. */
function gatedEmbeddings(spec: InputSpec, x: Partial<Record<InputName, Sym>>, s: Seeds, units: number): Sym[] {
  const presence = x.presence!;
  return spec.modalities.map((m) =>
    apply(new ModalityGate({ index: presenceIndex(m), name: `${m}_gate` }), [encode(m, x, s, units), presence]),
  );
}

/**
 * Inputs every strategy joins at its head, ungated: presence, and the standing voice request when the
 * spec has it (it outlives the utterance, so the voice slot's presence must not gate it), and which camera
 * slots hold a frame, when the spec has several cameras.
 */
const context = (x: Partial<Record<InputName, Sym>>): Sym[] => [x.presence!, ...(x.intent ? [x.intent] : []), ...(x.camera_mask ? [x.camera_mask] : [])];

const head = (s: Seeds, x: Sym, classes: number, widths: readonly number[] = DEFAULT_HEAD): Sym => {
  if (widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`head widths must be positive integers, got [${widths.join(", ")}]`);
  // The first layer keeps its historical name, so models made before deeper heads load and compare unchanged.
  let hidden = x;
  widths.forEach((w, i) => (hidden = apply(dense(s, w, i === 0 ? "head_hidden" : `head_hidden_${i + 1}`), hidden)));
  const dropped = apply(tf.layers.dropout({ rate: 0.2, seed: s.next(), name: "head_dropout" }), hidden);
  return apply(dense(s, classes, "head_out", "softmax"), dropped);
};

export const early: FusionStrategy = {
  name: "early",
  description: "features of every modality (masked, with presence) joined before one MLP",
  build(spec, o) {
    const s = new Seeds(o.seed);
    const { list, byName } = specInputs(spec);
    // Several cameras: a masked slot's features are zeroed whatever they hold (they reach the MLP raw).
    const raw = (n: InputName): Sym => (n === "camera" && byName.camera_mask ? apply(new CameraSlotMask({ name: "camera_slot_mask" }), [byName.camera!, byName.camera_mask]) : byName[n]!);
    const flat = spec.inputs.map((i) => (i.shape.length > 1 ? apply(tf.layers.flatten({ name: `${i.name}_flat` }), raw(i.name)) : raw(i.name)));
    const joined = flat.length > 1 ? apply(tf.layers.concatenate({ name: "early_join" }), flat) : flat[0]!;
    const hidden = apply(dense(s, 96, "early_hidden"), joined);
    return tf.model({ inputs: list, outputs: head(s, hidden, o.classes ?? NUM_ACTIONS, o.head), name: "early" });
  },
};

export const intermediate: FusionStrategy = {
  name: "intermediate",
  description: "per-modality encoders, gated embeddings joined with presence, shared head",
  build(spec, o) {
    const s = new Seeds(o.seed);
    const { list, byName } = specInputs(spec);
    const embs = gatedEmbeddings(spec, byName, s, o.units ?? 32);
    const joined = apply(tf.layers.concatenate({ name: "intermediate_join" }), [...embs, ...context(byName)]);
    return tf.model({ inputs: list, outputs: head(s, joined, o.classes ?? NUM_ACTIONS, o.head), name: "intermediate" });
  },
};

export const late: FusionStrategy = {
  name: "late",
  description: "per-modality encoders and heads; logits combined by learned presence-dependent weights",
  build(spec, o) {
    const s = new Seeds(o.seed);
    const { list, byName } = specInputs(spec);
    const classes = o.classes ?? NUM_ACTIONS;
    const embs = gatedEmbeddings(spec, byName, s, o.units ?? 32);
    // Each modality's head also reads the standing voice request, when the spec has it; the camera's, which camera slots hold a frame.
    const headIn = (m: Modality, e: Sym): Sym => {
      const extra = [...(byName.intent ? [byName.intent] : []), ...(m === "camera" && byName.camera_mask ? [byName.camera_mask] : [])];
      return extra.length ? apply(tf.layers.concatenate({ name: `${m}_head_join` }), [e, ...extra]) : e;
    };
    const logits = spec.modalities.map((m, i) =>
      apply(dense(s, classes, `${m}_head_out`, "linear"), apply(dense(s, 32, `${m}_head_hidden`), headIn(m, embs[i]!))),
    );
    const out = apply(new GatedLateFusion({ indices: spec.modalities.map(presenceIndex), seed: s.next(), name: "late_gate" }), [...logits, byName.presence!]);
    return tf.model({ inputs: list, outputs: out, name: "late" });
  },
};

export const attention: FusionStrategy = {
  name: "attention",
  description: "per-modality encoders as tokens; single-head self-attention over present tokens; pooled head",
  build(spec, o) {
    const s = new Seeds(o.seed);
    const units = o.units ?? 32;
    const { list, byName } = specInputs(spec);
    const embs = spec.modalities.map((m) => encode(m, byName, s, units));
    const attended = apply(
      new ModalityAttention({ indices: spec.modalities.map(presenceIndex), units, seed: s.next(), name: "cross_modal_attention" }),
      [...embs, byName.presence!],
    );
    const joined = apply(tf.layers.concatenate({ name: "attention_join" }), [attended, ...context(byName)]);
    return tf.model({ inputs: list, outputs: head(s, joined, o.classes ?? NUM_ACTIONS, o.head), name: "attention" });
  },
};

export const STRATEGY_IMPLS: Record<StrategyName, FusionStrategy> = { early, intermediate, late, attention };

export function strategyByName(name: string): FusionStrategy {
  const s = STRATEGY_IMPLS[name as StrategyName];
  if (!s) throw new Error(`unknown strategy "${name}"; choose one of ${STRATEGIES.join(", ")}`);
  return s;
}

