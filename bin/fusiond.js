#!/usr/bin/env node
// The `fusiond` executable: registers the TypeScript loader (tsx) and runs the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
const status = await main();
if (status !== undefined) process.exit(status);
