#!/usr/bin/env node
// The `fusiond` executable: registers the TypeScript loader (tsx) and runs the CLI.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
