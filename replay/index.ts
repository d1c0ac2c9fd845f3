/** replay/: MCAP recorder and reader, recovery, virtual-clock replay. Imports only schemas/. */
export * from "./clock.ts";
export * from "./compare.ts";
export * from "./compression.ts";
export * from "./decided-frames.ts";
export * from "./driver.ts";
export * from "./info.ts";
export * from "./io.ts";
export * from "./mcap-file-writer.ts";
export * from "./play.ts";
export * from "./raw-recorder.ts";
export * from "./reader.ts";
export * from "./recorder.ts";
export * from "./recover.ts";
export * from "./scan.ts";
export * from "./source.ts";
export * from "./synthetic.ts";
export * from "./time-format.ts";
