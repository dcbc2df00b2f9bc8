/**
 * What the CNI plugin and the daemon say to each other over the local API (`POST /cni/add`,
 * `/cni/del`, `/cni/check`, `/cni/gc`). The plugin turns the runtime's environment (CNI SPEC.md "Parameters")
 * into a CniRequest and the answer into a CNI result; the daemon maps requests onto IPAM. The
 * types live here, below both, so neither imports the other.
 */
import type { AddressLease } from '../ipam/ipam.js';

/** One container interface: the IPAM owner key, plus what the runtime told the plugin. */
export interface CniRequest {
  containerId: string;
  ifname: string;
  netns?: string;
  /** CNI_ARGS, e.g. K8S_POD_NAMESPACE=…;K8S_POD_NAME=… */
  args: Record<string, string>;
  /**
   * The IPAM network the pod asked for (`podroute.io/network` in CNI_ARGS or the network
   * configuration's `args.cni`); absent: the first of the group's networks with room.
   */
  network?: string;
}

/** The address the plugin hands the main plugin, with the length and gateway it should use. */
export interface CniAllocation {
  address: string;
  prefixLength: number;
  gateway?: string;
}

/** `POST /cni/add`: the allocation, and where it came from (for logs and people). */
export interface CniAddResponse extends CniAllocation {
  block: string;
  network: string;
}

/** `POST /cni/del`: false when nothing was allocated (CNI DEL must succeed then too). */
export interface CniDelResponse {
  released: boolean;
}

/** `POST /cni/check`: the lease IPAM holds for the interface (404 when none). */
export type CniCheckResponse = AddressLease;

/** One attachment the runtime still uses (CNI 1.1 `cni.dev/valid-attachments` entry). */
export interface CniAttachment {
  containerId: string;
  ifname: string;
}

/** `POST /cni/gc` (CNI 1.1 GC): every allocation whose attachment is not listed is released. */
export interface CniGcRequest {
  validAttachments: CniAttachment[];
}

/** `POST /cni/gc`: the attachments whose addresses were released. */
export interface CniGcResponse {
  released: CniAttachment[];
}

/**
 * `POST /cni/exec`: one whole plugin invocation as the runtime made it, handed over by the plugin
 * executable (src/cni/shim/podroute-cni.c): its CNI_* environment and stdin (CNI SPEC.md
 * "Section 3: Execution Protocol"). The daemon runs the plugin logic on it in-process.
 */
export interface CniExecRequest {
  env: Record<string, string>;
  stdin: string;
}

/** `POST /cni/exec`: what the plugin writes to stdout (without the final newline) and its exit code. */
export interface CniExecResponse {
  stdout: string;
  exitCode: number;
}
