import bearerAuth from "@fastify/bearer-auth";
import rateLimit from "@fastify/rate-limit";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Static, Type } from "@sinclair/typebox";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { CLI_USER_AGENT_PREFIX } from "../../cli/remote-prune.js";
import { PruneBusyError } from "../../prune/pruner.js";
import { IDENTIFIER_MAX_LENGTH, IDENTIFIER_PATTERN, policyWith, PruneRequestError } from "../../prune/request.js";
import type { AppDeps } from "../app.js";

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

/**
 * POST /admin/prune behind a bearer token. Off (403) until a token is
 * configured; one run at a time (409); rate limited (429).
 */
export const adminRoutes: FastifyPluginAsync<AppDeps> = async (parent, deps) => {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const token = deps.config.adminToken;
  await app.register(rateLimit, { max: 30, timeWindow: "1 minute" });
  if (token !== undefined) {
    await app.register(bearerAuth, {
      keys: new Set([token]),
      addHook: false,
      verifyErrorLogLevel: "debug", // refusals are logged below, once, with the client's address
      errorResponse: (error: Error) => ({ error: `unauthorized: ${error.message}` }),
    });
  }

  const authenticate = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    if (token === undefined) {
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
      try {
        policy = policyWith(deps.source.policy, body);
      } catch (error) {
        if (error instanceof PruneRequestError) return reply.code(400).send({ error: error.message });
        throw error;
      }
      if (deps.pruner.running) return reply.code(409).send({ error: new PruneBusyError().message });
      try {
        return await deps.pruner.run({
          dryRun: body.dryRun ?? request.query.dryRun === "true",
          ...(body.namespaces ? { namespaces: body.namespaces } : {}),
          ...(body.leases ? { leases: body.leases } : {}),
          abortIngests: body.abortIngests ?? true,
          policy,
          client: request.ip,
          // `prune --admin.url` says who it is, so that its runs count as trigger="cli".
          trigger: request.headers["user-agent"]?.startsWith(CLI_USER_AGENT_PREFIX) ? "cli" : "http",
        });
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
