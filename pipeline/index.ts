/** The pipeline core: RxJS operators and the graph. Imports only schemas/ and rxjs. */
export * from "./clock.ts";
export * from "./drops.ts";
export * from "./approximate-time.ts";
