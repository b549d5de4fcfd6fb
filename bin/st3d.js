#!/usr/bin/env node
// st3d command-line entry: loads the TypeScript sources through tsx (no build step).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../generator/cli.ts");
await main(process.argv);
