/** replay/: MCAP recorder and reader, recovery, virtual-clock replay. Imports only schemas/. */
export * from "./compression.ts";
export * from "./io.ts";
export * from "./mcap-file-writer.ts";
export * from "./recorder.ts";
export * from "./synthetic.ts";
