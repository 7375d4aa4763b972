/**
 * The requests the exporter sends, encoded by hand (field numbers from proto/): a handful of
 * strings each, not worth loading a protobuf runtime for.
 */
import type { Labels, LeaseResource } from "./types.js";
import { EMPTY_MESSAGE, WireWriter } from "./wire.js";

/** google.protobuf.Empty and every List request without filters. */
export const empty = (): Buffer => EMPTY_MESSAGE;

/** PluginsRequest { repeated string filters = 1 }. */
export const plugins = (filters: readonly string[]): Buffer => new WireWriter().repeated(1, filters).finish();

/** ListResourcesRequest { string id = 1 }. */
export const leaseId = (id: string): Buffer => new WireWriter().string(1, id).finish();

/** CreateRequest { string id = 1; map<string, string> labels = 3 }. */
export const createLease = (id: string, labels: Labels): Buffer => new WireWriter().string(1, id).map(3, labels).finish();

/** DeleteRequest { string id = 1; bool sync = 2 }. */
export const deleteLease = (id: string, sync: boolean): Buffer => new WireWriter().string(1, id).bool(2, sync).finish();

/** AddResourceRequest { string id = 1; Resource resource = 2 { string id = 1; string type = 2 } }. */
export const addLeaseResource = (id: string, resource: LeaseResource): Buffer =>
  new WireWriter()
    .string(1, id)
    .message(2, (w) => w.string(1, resource.id).string(2, resource.type))
    .finish();

/** AbortRequest { string ref = 1 }. */
export const abortIngest = (ref: string): Buffer => new WireWriter().string(1, ref).finish();

/** ListSnapshotsRequest { string snapshotter = 1 }. */
export const listSnapshots = (snapshotter: string): Buffer => new WireWriter().string(1, snapshotter).finish();

/** UsageRequest { string snapshotter = 1; string key = 2 }. */
export const snapshotUsage = (snapshotter: string, key: string): Buffer =>
  new WireWriter().string(1, snapshotter).string(2, key).finish();
