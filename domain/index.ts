export * from "./random.ts";
export * from "./road-map.ts";
export * from "./voice-intent.ts";
