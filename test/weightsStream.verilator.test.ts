/** The Verilator half of test/weightsStream.test.ts (weights off chip, end to end): see that file. */
import { streamRuns } from "./weightsStreamRuns.ts";

streamRuns(["verilator"]);
