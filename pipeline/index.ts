/** The pipeline core: RxJS operators and the graph. Imports only schemas/ and rxjs. */
export * from "./drops.ts";
export * from "./frame-slots.ts";
export * from "./frame-aligner.ts";
export * from "./frame-inputs.ts";
export * from "./align.ts";
export * from "./validate.ts";
export * from "./health.ts";
export * from "./decision-liveness.ts";
export * from "./backpressure.ts";
export * from "./decide.ts";
export * from "./metrics.ts";
export * from "./graph.ts";
export * from "./daemon-aligner.ts";
