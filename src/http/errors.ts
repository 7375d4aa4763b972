import type { FastifySchemaValidationError } from "fastify/types/schema.js";

/** Validation errors that name the offending field, unknown fields included. */
export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const parts = errors.map((e) => {
    const field = `${dataVar}${e.instancePath.replace(/\//g, ".")}`;
    const params = e.params as Record<string, unknown>;
    if (typeof params.additionalProperty === "string") return `${field}: unknown field "${params.additionalProperty}"`;
    return `${field} ${e.message ?? "is invalid"}`;
  });
  const error = new Error(parts.join("; ")) as Error & { statusCode: number };
  error.statusCode = 400;
  return error;
}
