export * from "./codec.ts";
export * from "./decode.ts";
export * from "./errors.ts";
export * from "./random.ts";
export * from "./stamp.ts";
export * from "./time.ts";
export * from "./topics.ts";
export * from "./types.ts";
