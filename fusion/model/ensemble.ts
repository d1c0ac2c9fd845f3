/**
 * An ensemble of fusion models trained alike (other seeds): their class probabilities averaged, as one flat
 * tf.js model. Flat, not nested: tf.js cannot save a model that holds two models with the same layer names
 * (their weights collide by name), so each member's layers are copied under a prefix (`m1_`, `m2_`, …) into
 * one graph that shares the inputs, and the member weights are set layer by layer. The result saves, loads
 * and runs like any model directory: same inputs, same spec, one output.
 */
import * as tf from "@tensorflow/tfjs";

type Json = Record<string, unknown>;
/** A Keras functional inbound reference: [layer name, node index, tensor index, kwargs]. */
type InboundRef = [string, number, number, Json?];

interface LayerJson {
  class_name: string;
  name: string;
  config: Json & { name: string };
  inbound_nodes: InboundRef[][];
}

interface FunctionalJson {
  class_name: string;
  config: { name: string; layers: LayerJson[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
}

export const ENSEMBLE_OUTPUT = "ensemble_mean";
export const memberPrefix = (k: number): string => `m${k + 1}_`;

export async function ensembleOf(members: readonly tf.LayersModel[], name = "ensemble"): Promise<tf.LayersModel> {
  if (members.length === 0) throw new Error("an ensemble needs at least one member");
  if (members.length === 1) return members[0]!;
  const tops = members.map((m) => m.toJSON(null, false) as unknown as FunctionalJson);
  const first = tops[0]!.config;
  const inputNames = first.input_layers.map(([n]) => n);
  const layers: LayerJson[] = first.layers.filter((l) => l.class_name === "InputLayer");
  const outputs: InboundRef[] = [];
  tops.forEach((top, k) => {
    const c = top.config;
    if (c.input_layers.length !== inputNames.length || c.output_layers.length !== 1) {
      throw new Error(`ensemble member ${k + 1}: ${c.input_layers.length} inputs and ${c.output_layers.length} outputs (all members need the first's ${inputNames.length} inputs and one output)`);
    }
    // Member input i becomes the shared input i; every other layer is renamed under the member's prefix.
    const rename = new Map<string, string>(c.input_layers.map(([n], i) => [n, inputNames[i]!]));
    for (const l of c.layers) if (l.class_name !== "InputLayer") rename.set(l.name, memberPrefix(k) + l.name);
    for (const l of c.layers) {
      if (l.class_name === "InputLayer") continue;
      const newName = rename.get(l.name)!;
      layers.push({
        ...l,
        name: newName,
        config: { ...l.config, name: newName },
        inbound_nodes: l.inbound_nodes.map((node) => node.map(([src, ...rest]) => [rename.get(src) ?? src, ...rest] as InboundRef)),
      });
    }
    const [out, node, tensor] = c.output_layers[0]!;
    outputs.push([rename.get(out)!, node, tensor, {}]);
  });
  layers.push({ class_name: "Average", name: ENSEMBLE_OUTPUT, config: { name: ENSEMBLE_OUTPUT, trainable: false, dtype: "float32" }, inbound_nodes: [outputs] });
  const config = { name, layers, input_layers: first.input_layers, output_layers: [[ENSEMBLE_OUTPUT, 0, 0]] };
  // A plain JSON copy: tf.js types the topology as a Python-style JSON dict.
  const modelTopology = JSON.parse(JSON.stringify({ class_name: "Model", config })) as Record<string, never>;
  const model = await tf.models.modelFromJSON({ modelTopology });
  members.forEach((m, k) => {
    for (const l of m.layers) {
      const w = l.getWeights();
      if (w.length) model.getLayer(memberPrefix(k) + l.name).setWeights(w);
    }
  });
  return model;
}
