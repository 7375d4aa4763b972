import type { PruneReport } from "../prune/pruner.js";

/** What marks the `prune` command's requests, so that the server counts them with trigger="cli". */
export const CLI_USER_AGENT_PREFIX = "containerd-orphan-exporter-cli/";

export interface RemotePruneRequest {
  /** The running exporter's admin listener, e.g. http://127.0.0.1:9978. */
  url: string;
  token: string | undefined;
  version: string;
  body: { dryRun: boolean; namespaces?: string[]; leases?: string[]; leaseStaleAfter?: string };
}

export class RemotePruneError extends Error {
  readonly expected = true;
}

/**
 * `prune --admin.url`: the running exporter prunes, so its metrics count the run
 * (trigger="cli") and it is the one prune at a time on this node.
 */
export async function remotePrune(request: RemotePruneRequest): Promise<PruneReport> {
  if (request.token === undefined) {
    throw new RemotePruneError("--admin.url needs the admin token: give --admin.token-file=FILE or set ADMIN_TOKEN");
  }
  const target = `${request.url.replace(/\/+$/, "")}/admin/prune`;
  let response: Response;
  try {
    response = await fetch(target, {
      method: "POST",
      headers: {
        authorization: `Bearer ${request.token}`,
        "content-type": "application/json",
        "user-agent": `${CLI_USER_AGENT_PREFIX}${request.version}`,
      },
      body: JSON.stringify(request.body),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new RemotePruneError(`cannot reach the exporter at ${target}: ${cause}; is it running with --admin.listen-address there?`);
  }
  const text = await response.text();
  if (!response.ok) {
    let reason = text;
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: the text as it came
    }
    throw new RemotePruneError(`the exporter at ${target} answered ${response.status}: ${reason}`);
  }
  return JSON.parse(text) as PruneReport;
}
