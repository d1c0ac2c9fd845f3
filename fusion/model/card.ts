/** Renders a model card (card.json's content) as Markdown for people. */
import type { ModelCard } from "./model-dir.ts";

const fmt = (v: unknown): string => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : JSON.stringify(v));

function table(obj: Record<string, unknown>): string {
  const rows = Object.entries(obj).filter(([, v]) => typeof v !== "object" || v === null);
  return ["| measure | value |", "| --- | --- |", ...rows.map(([k, v]) => `| ${k} | ${fmt(v)} |`)].join("\n");
}

export function renderCard(c: ModelCard): string {
  const sections = Object.entries(c.metrics).map(([name, m]) =>
    typeof m === "object" && m !== null ? `### ${name}\n\n${table(m as Record<string, unknown>)}\n` : `- ${name}: ${fmt(m)}`,
  );
  return `# Model card: ${c.name}

${c.description}

- strategy: \`${c.strategy}\`
- modalities: ${c.inputSpec.modalities.join(", ")}
- parameters: ${c.params ?? "?"}; FLOPs per sample: ${c.flopsPerSample ?? "?"}
- hash (model.json + weights.bin): \`${c.hash ?? "?"}\`
${c.onnx ? `- ONNX (opset ${c.onnx.opset}): ${c.onnx.sha256 ? `\`${c.onnx.file}\`, sha256 \`${c.onnx.sha256}\`` : `none (${c.onnx.error ?? "not exported"})`}\n` : ""}- created: ${c.created ?? "?"}

## Made by

\`\`\`sh
${c.command}
\`\`\`

## Data

${c.data.files.length} file(s): ${c.data.files.map((f) => `\`${f}\``).join(", ")}
— ${c.data.samples} samples (train ${c.data.train}, validation ${c.data.val}${c.data.test !== undefined ? `, test ${c.data.test}` : ""}).
${c.data.classCounts ? `\nTraining labels: ${Object.entries(c.data.classCounts).map(([k, v]) => `${k} ${v}`).join(", ")}.\n` : ""}
## Training

${table(c.training)}

## Metrics (macro-F1 over the action classes present)

${sections.join("\n")}

## Input spec

${c.inputSpec.inputs.map((i) => `- \`${i.name}\`: ${i.shape.join("×")}`).join("\n")}
${c.notes?.length ? `\n## Notes\n\n${c.notes.map((n) => `- ${n}`).join("\n")}\n` : ""}`;
}
