import bearerAuth from "@fastify/bearer-auth";
import rateLimit from "@fastify/rate-limit";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { CLI_USER_AGENT_PREFIX } from "../../cli/remote-prune.js";
import { PruneBusyError } from "../../prune/pruner.js";
import {
  IDENTIFIER_MAX_LENGTH,
  IDENTIFIER_PATTERN,
  policyWith,
  PruneRequestError,
  resolveDryRun,
} from "../../prune/request.js";
import { AdminToken } from "../admin-token.js";
import type { AppDeps } from "../app.js";
import { DuplicateKeyError, parseStrictJson } from "../strict-json.js";

const Identifier = Type.String({ pattern: IDENTIFIER_PATTERN, minLength: 1, maxLength: IDENTIFIER_MAX_LENGTH });
const Duration = Type.String({ minLength: 1, maxLength: 32 });

export const PruneBody = Type.Object(
  {
    dryRun: Type.Optional(Type.Boolean()),
    namespaces: Type.Optional(Type.Array(Identifier, { maxItems: 256 })),
    leaseStaleAfter: Type.Optional(Duration),
    ingestIdleAfter: Type.Optional(Duration),
    leases: Type.Optional(Type.Array(Identifier, { maxItems: 1024 })),
    abortIngests: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type PruneBody = Static<typeof PruneBody>;

const PruneQuery = Type.Object(
  { dryRun: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false")])) },
  { additionalProperties: false },
);

const BODY_LIMIT = 16 * 1024;
const REALM = 'Bearer realm="containerd-orphan-exporter"';

const badRequest = (message: string) => Object.assign(new Error(message), { statusCode: 400 });

/**
 * The prune's body parser: a JSON object and nothing else. Repeated keys are
 * refused (JSON.parse would keep the last one silently), and so is `null`,
 * which the defaults would otherwise turn into a real prune.
 */
function parsePruneBody(text: string): Record<string, unknown> {
  if (text.trim() === "") throw badRequest("body is empty but content-type is application/json; send {} for all defaults");
  let body: unknown;
  try {
    body = parseStrictJson(text);
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw badRequest(error.message);
    throw badRequest(`body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    const what = body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`;
    throw badRequest(`body must be a JSON object ({} for all defaults), not ${what}`);
  }
  return body as Record<string, unknown>;
}

/**
 * POST /admin/prune behind a bearer token. Off (403) until a token is
 * configured; one run at a time (409); rate limited (429).
 */
export const adminRoutes: FastifyPluginAsync<AppDeps> = async (parent, deps) => {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  // Re-read on change and on SIGHUP when serve passes the file's holder; fixed otherwise.
  const token = deps.adminToken ?? new AdminToken(deps.config.adminToken);
  await app.register(rateLimit, { max: 30, timeWindow: "1 minute" });
  // Scoped to this plugin: only the admin route parses JSON bodies.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string", bodyLimit: BODY_LIMIT }, (_request, text, done) => {
    try {
      done(null, parsePruneBody(text as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  if (token.enabled) {
    await app.register(bearerAuth, {
      keys: new Set<string>(),
      auth: (key: string) => token.matches(key),
      addHook: false,
      verifyErrorLogLevel: "debug", // refusals are logged below, once, with the client's address
      errorResponse: (error: Error) => ({ error: `unauthorized: ${error.message}` }),
    });
  }

  const authenticate = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    if (!token.enabled) {
      reply.code(403).send({
        error: "admin routes are disabled: start the exporter with --admin.token-file=FILE or ADMIN_TOKEN to enable them",
      });
      return;
    }
    app.verifyBearerAuth?.(request, reply, (error?: Error) => {
      if (error) {
        request.log.warn({ reason: error.message, client: request.ip }, "admin request refused");
        reply.code(401).header("WWW-Authenticate", REALM).send({ error: `unauthorized: ${error.message}` });
        return;
      }
      done();
    });
  };

  app.post(
    "/admin/prune",
    {
      bodyLimit: BODY_LIMIT,
      schema: { body: PruneBody, querystring: PruneQuery },
      // The rate limit first: its plugin appends its own hook after a route's hooks, where
      // a refused token (401) would never reach it and guessing would be unlimited.
      onRequest: [app.rateLimit(), authenticate],
      // `curl -X POST` with no body at all means "all defaults".
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      let policy;
      let dryRun;
      try {
        dryRun = resolveDryRun(body, request.query);
        policy = policyWith(deps.source.policy, body);
      } catch (error) {
        if (error instanceof PruneRequestError) return reply.code(400).send({ error: error.message });
        throw error;
      }
      if (deps.pruner.running) return reply.code(409).send({ error: new PruneBusyError().message });
      try {
        const report = await deps.pruner.run({
          dryRun,
          ...(body.namespaces ? { namespaces: body.namespaces } : {}),
          ...(body.leases ? { leases: body.leases } : {}),
          abortIngests: body.abortIngests ?? true,
          policy,
          client: request.ip,
          // `prune --admin.url` says who it is, so that its runs count as trigger="cli".
          trigger: request.headers["user-agent"]?.startsWith(CLI_USER_AGENT_PREFIX) ? "cli" : "http",
        });
        // Deleted, but not measured: the report says what was done, the status that it did not end well.
        const unmeasured = report.bytes.measurementError;
        if (unmeasured !== undefined) return reply.code(502).send({ error: `prune failed: ${unmeasured}`, ...report });
        return report;
      } catch (error) {
        if (error instanceof PruneBusyError) return reply.code(409).send({ error: error.message });
        request.log.error({ err: error, client: request.ip }, "prune failed");
        return reply.code(502).send({ error: `prune failed: ${(error as Error).message}` });
      }
    },
  );

  app.route({
    method: ["GET", "PUT", "DELETE", "PATCH"],
    url: "/admin/prune",
    handler: async (_request, reply) =>
      reply.code(405).header("Allow", "POST").send({ error: "use POST to run a prune" }),
  });
};
