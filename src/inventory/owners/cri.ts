import type { OwnerRule } from "./owner.js";
import { CRI_NAMESPACE } from "./owner.js";

/**
 * Image pulls of the CRI plugin (kubelet). Evidence: containerd's CRI image
 * service pulls through the client with the default lease (random id,
 * `containerd.io/gc.expire` = 24 h) in namespace k8s.io.
 */
export const cri: OwnerRule = {
  owner: "cri",
  keeps: false,
  matches: (lease, { namespace, neverExpires }) => namespace.name === CRI_NAMESPACE && !neverExpires,
};
