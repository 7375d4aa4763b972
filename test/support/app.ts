import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { createRuntime, type Runtime } from "../../src/cli/runtime.js";
import { type Config, loadConfig } from "../../src/config/config.js";
import { Flags, parseArgs } from "../../src/config/flags.js";
import { buildApp } from "../../src/http/app.js";

export interface TestApp {
  app: FastifyInstance;
  runtime: Runtime;
  config: Config;
  /** Every log line the app wrote, as text. */
  logs: () => string;
  close: () => Promise<void>;
}

/** The real app and runtime, configured through the same flags a user would pass. */
export async function startTestApp(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  const config = loadConfig(new Flags(parseArgs(argv, env)), env);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = pino({ level: "debug", redact: { paths: ["req.headers.authorization"], censor: "[redacted]" } }, sink);
  const runtime = createRuntime(config, log);
  const deps = { config, version: "0.0.0-test", source: runtime.source, metrics: runtime.metrics, pruner: runtime.pruner };
  const app = await buildApp(deps, { logger: log });
  await app.ready();
  return {
    app,
    runtime,
    config,
    logs: () => lines.join(""),
    close: async () => {
      await app.close();
      runtime.close();
    },
  };
}
