// `npm run build` runs this from dist/ once tsc is done: see build-info.ts.
import { writeBuildInfo } from "./build-info.js";

process.stdout.write(`wrote ${writeBuildInfo()}\n`);
