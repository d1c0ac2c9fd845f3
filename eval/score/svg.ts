/** Inline SVG charts for the HTML report: grouped bars, a histogram, a heat-map matrix, an episode timeline. Pure. */
import type { Distribution, Timeline } from "./report.ts";

export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const n1 = (v: number): string => (Math.round(v * 10) / 10).toString();

export const SERIES_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
export const ACTION_COLOURS: Record<string, string> = {
  KEEP: "#9ecae1",
  ACCELERATE: "#31a354",
  DECELERATE: "#fdae6b",
  BRAKE_HARD: "#de2d26",
  LANE_LEFT: "#756bb1",
  LANE_RIGHT: "#bcbddc",
  STOP: "#636363",
  PULL_OVER: "#e7969c",
  none: "#ffffff",
};
const SENSOR_COLOURS = { ok: "#74c476", stale: "#fdd0a2", missing: "#fb6a4a" } as const;

/** Grouped bars: one group per category, one bar per series; null values leave a gap marked "n/a". */
export function groupedBars(o: { title: string; categories: string[]; series: { name: string; values: (number | null)[] }[]; unit?: string; max?: number }): string {
  const W = 640;
  const left = 48;
  const bottom = 36;
  // The legend wraps onto as many rows as its entries need, and the plot moves down to make room.
  const legendItems = legendLayout(o.series.map((s) => s.name), left, W - 10);
  const top = 28 + 14 * (legendItems.rows - 1);
  const H = 212 + top;
  const all = o.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const max = o.max ?? Math.max(1e-9, ...all) * 1.1;
  const plotH = H - top - bottom;
  const groupW = (W - left - 10) / Math.max(1, o.categories.length);
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, o.series.length));
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${n1(y)}" y2="${n1(y)}" stroke="#ddd"/><text x="${left - 4}" y="${n1(y + 4)}" font-size="10" text-anchor="end">${esc(((max * i) / 4).toPrecision(3))}</text>`);
  }
  o.categories.forEach((c, ci) => {
    const gx = left + ci * groupW + groupW * 0.1;
    o.series.forEach((s, si) => {
      const v = s.values[ci];
      const x = gx + si * barW;
      if (v === null || v === undefined || !Number.isFinite(v)) {
        parts.push(`<text x="${n1(x + barW / 2)}" y="${top + plotH - 2}" font-size="8" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      const h = (Math.max(0, v) / max) * plotH;
      parts.push(`<rect class="bar" x="${n1(x)}" y="${n1(top + plotH - h)}" width="${n1(barW - 1)}" height="${n1(h)}" fill="${SERIES_COLOURS[si % SERIES_COLOURS.length]}"><title>${esc(`${s.name} · ${c}: ${v.toPrecision(4)}${o.unit ?? ""}`)}</title></rect>`);
    });
    parts.push(`<text x="${n1(left + ci * groupW + groupW / 2)}" y="${H - bottom + 14}" font-size="10" text-anchor="middle">${esc(c)}</text>`);
  });
  const legend = o.series
    .map((s, i) => {
      const at = legendItems.at[i]!;
      return `<rect x="${at.x}" y="${at.y}" width="10" height="10" fill="${SERIES_COLOURS[i % SERIES_COLOURS.length]}"/><text class="legend" x="${at.x + 14}" y="${at.y + 9}" font-size="10">${esc(s.name)}</text>`;
    })
    .join("");
  return `<svg class="chart" role="img" aria-label="${esc(o.title)}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><title>${esc(o.title)}</title>${legend}${parts.join("")}<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/></svg>`;
}

/**
 * Places legend entries left to right from x0, wrapping to a new row (14 px lower) before one would pass x1.
 * Widths are estimated at 6 px per character of 10 px system-ui text, plus the swatch and a gap.
 */
export function legendLayout(names: string[], x0: number, x1: number): { at: { x: number; y: number }[]; rows: number } {
  const at: { x: number; y: number }[] = [];
  let x = x0;
  let row = 0;
  for (const name of names) {
    const w = 14 + 6 * name.length + 16;
    if (x > x0 && x + w > x1) {
      row++;
      x = x0;
    }
    at.push({ x, y: 6 + 14 * row });
    x += w;
  }
  return { at, rows: row + 1 };
}

/** A histogram of a latency distribution (its fixed bins). */
export function histogram(title: string, d: Distribution, unit = "ms"): string {
  const cats = d.histogram.edges.map((e, i) => (i + 1 < d.histogram.edges.length ? `${e}` : `≥${e}`));
  return groupedBars({ title, categories: cats, series: [{ name: `${title} (n ${d.n}, p50 ${d.p50.toFixed(1)} ${unit}, p99 ${d.p99.toFixed(1)} ${unit})`, values: d.histogram.counts }] });
}

/** Confusion matrix as a heat map, each row shaded by its share of the row (recall), counts written in. */
export function confusionSvg(classes: string[], m: number[][]): string {
  const cell = 44;
  const left = 96;
  const top = 90;
  const W = left + cell * classes.length + 10;
  const H = top + cell * classes.length + 10;
  const parts: string[] = [];
  m.forEach((row, r) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((v, c) => {
      const share = total ? v / total : 0;
      const x = left + c * cell;
      const y = top + r * cell;
      const fill = r === c ? `rgba(49,130,189,${(0.1 + 0.9 * share).toFixed(3)})` : `rgba(222,45,38,${(share * 0.9).toFixed(3)})`;
      parts.push(`<rect class="cell" x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${fill}" stroke="#eee"><title>${esc(`expert ${classes[r]} → decided ${classes[c]}: ${v}`)}</title></rect>`);
      if (v) parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" font-size="11" text-anchor="middle">${v}</text>`);
    });
    parts.push(`<text x="${left - 4}" y="${top + r * cell + cell / 2 + 4}" font-size="10" text-anchor="end">${esc(classes[r])}</text>`);
  });
  classes.forEach((c, i) => parts.push(`<text transform="translate(${left + i * cell + cell / 2 + 3},${top - 4}) rotate(-60)" font-size="10">${esc(c)}</text>`));
  parts.push(`<text x="4" y="14" font-size="11">rows: expert · columns: decision</text>`);
  return `<svg class="confusion" role="img" aria-label="confusion matrix" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><title>confusion matrix</title>${parts.join("")}</svg>`;
}

/** One episode: lanes of the expert's and the decided action, sensor health per modality, speed, collisions. */
export function timelineSvg(t: Timeline): string {
  const W = 960;
  const left = 90;
  const laneH = 16;
  const sensors = Object.keys(t.sensors);
  const lanes = ["expert", "decision", ...sensors];
  const speedH = t.speedMps ? 70 : 0;
  const top = 10;
  const H = top + lanes.length * (laneH + 4) + speedH + 40;
  const tEnd = Math.max(1e-9, t.t[t.t.length - 1] ?? 1);
  const x = (s: number): number => left + ((W - left - 10) * s) / tEnd;
  const parts: string[] = [];
  const run = (values: string[], y: number, colour: (v: string) => string, label: string): void => {
    parts.push(`<text x="${left - 4}" y="${y + laneH - 4}" font-size="10" text-anchor="end">${esc(label)}</text>`);
    let i = 0;
    while (i < values.length) {
      let j = i;
      while (j + 1 < values.length && values[j + 1] === values[i]) j++;
      const x0 = x(t.t[i]!);
      const x1 = j + 1 < t.t.length ? x(t.t[j + 1]!) : W - 10;
      parts.push(`<rect class="seg" x="${n1(x0)}" y="${y}" width="${n1(Math.max(0.5, x1 - x0))}" height="${laneH}" fill="${colour(values[i]!)}"><title>${esc(`${label}: ${values[i]} (${t.t[i]!.toFixed(2)}–${(t.t[j]! as number).toFixed(2)} s)`)}</title></rect>`);
      i = j + 1;
    }
  };
  run(t.expert, top, (v) => ACTION_COLOURS[v] ?? "#ccc", "expert");
  run(t.decision, top + laneH + 4, (v) => ACTION_COLOURS[v] ?? "#ccc", "decision");
  sensors.forEach((m, i) => run(t.sensors[m]!, top + (i + 2) * (laneH + 4), (v) => SENSOR_COLOURS[v as keyof typeof SENSOR_COLOURS] ?? "#ccc", m));
  const sy = top + lanes.length * (laneH + 4) + 6;
  if (t.speedMps) {
    const vmax = Math.max(1, ...t.speedMps);
    const pts = t.speedMps.map((v, i) => `${n1(x(t.t[i]!))},${n1(sy + speedH - (v / vmax) * speedH)}`).join(" ");
    parts.push(`<text x="${left - 4}" y="${sy + 10}" font-size="10" text-anchor="end">speed</text><text x="${left - 4}" y="${sy + 22}" font-size="9" text-anchor="end">max ${vmax.toFixed(1)} m/s</text><polyline fill="none" stroke="#333" stroke-width="1" points="${pts}"/>`);
  }
  for (const i of t.collisions ?? []) {
    const cx = x(t.t[i] ?? 0);
    parts.push(`<line class="collision" x1="${n1(cx)}" x2="${n1(cx)}" y1="${top}" y2="${sy + speedH}" stroke="#d62728" stroke-width="2"><title>collision at ${t.t[i]?.toFixed(2)} s</title></line>`);
  }
  const ticks = 10;
  for (let k = 0; k <= ticks; k++) {
    const s = (tEnd * k) / ticks;
    parts.push(`<text x="${n1(x(s))}" y="${H - 14}" font-size="10" text-anchor="middle">${s.toFixed(0)} s</text>`);
  }
  const legend = Object.entries(ACTION_COLOURS)
    .filter(([a]) => a !== "none")
    .map(([a, c], i) => `<rect x="${left + i * 105}" y="${H - 10}" width="9" height="9" fill="${c}"/><text x="${left + i * 105 + 12}" y="${H - 2}" font-size="9">${a}</text>`)
    .join("");
  return `<svg class="timeline" role="img" aria-label="episode timeline" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 6}" viewBox="0 0 ${W} ${H + 6}"><title>${esc(`timeline of ${t.episode}`)}</title>${parts.join("")}${legend}</svg>`;
}
