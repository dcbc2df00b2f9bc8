/**
 * The local API's address-management endpoints: what the CNI plugin (`/cni/*`) and
 * `podroute ipam` (`/ipam*`) ask. Maps IPAM outcomes to HTTP statuses the clients turn into
 * CNI error codes or exit codes.
 */
import type { CniAllocation, CniRequest } from '../api/cni.js';
import type { ReleaseNodeRequest } from '../api/endpoints.js';
import { ApiError, type ApiServer } from '../api/server.js';
import { NETWORK_ARG } from '../cni/plugin.js';
import { CniErrorCode } from '../cni/spec.js';
import {
  type AddressLease,
  type Ipam,
  IpamExhaustedError,
  IpamNetworkError,
  type Owner,
} from '../ipam/ipam.js';
import { NodeAliveError } from '../ipam/store/types.js';
import { addressBits, formatAddress, parseAddress, prefixContains } from '../net/prefix.js';

function owner(body: unknown): Owner {
  const b = (body ?? {}) as Partial<CniRequest>;
  if (
    typeof b.containerId !== 'string' ||
    b.containerId === '' ||
    typeof b.ifname !== 'string' ||
    b.ifname === ''
  ) {
    throw new ApiError(400, 'containerId and ifname are required');
  }
  return { containerId: b.containerId, ifname: b.ifname };
}

/**
 * What the CNI plugin hands the main plugin. A network with a gateway (a VLAN segment) is passed
 * through. Without one IPAM gives a host address (/32, /128): the node routes for the pod. Main
 * plugins such as the reference `ptp` cannot use that: ptp deletes the connected route the
 * address makes (a /32 makes none: "failed to delete route … no such process") and needs a
 * gateway on-link (169.254.1.1 with a /32: "network is unreachable"). So the
 * answer is the address with the length of its network range and, as gateway, the range's first
 * address, which IPAM never hands out (topology.ts). ptp puts that gateway as a /32 on every pod's
 * host veth and routes the range via it inside the pod: all pod traffic goes through the node,
 * which holds a host route per pod, exactly as with a /32. The gateway is the same on every
 * node, so a pod's configuration never depends on where it runs.
 *
 * A VLAN network with an `interface` is routed by the node too (src/routes/vlan-ipam.ts): its
 * pods sit behind the node, not on the segment. Its gateway is the VLAN's router, which ptp would
 * put on every host veth — the node would then answer ARP for the router on the VLAN. Such pods
 * get the range's first address as gateway as well (the range's length they have already); it
 * must lie in the pod's prefix, or ptp cannot add the default route ("network is unreachable").
 */
export function cniAllocation(ipam: Ipam, lease: AddressLease): CniAllocation {
  const out: CniAllocation = { address: lease.address, prefixLength: lease.prefixLength };
  const net = ipam.topology.network(lease.network);
  const bytes = parseAddress(lease.address);
  const range = net?.ranges.find((r) =>
    prefixContains(r, { family: r.family, bytes, length: addressBits(r.family) }),
  );
  if (lease.gateway) {
    out.gateway = net?.interface !== undefined && range ? formatAddress(range.bytes) : lease.gateway;
    return out;
  }
  const bits = bytes.length * 8;
  if (lease.prefixLength !== bits) return out;
  if (!range || range.length >= bits - 1) return out;
  out.prefixLength = range.length;
  out.gateway = formatAddress(range.bytes);
  return out;
}

/** Reads a pod's annotations from the Kubernetes API; rejects with one line an operator can act on. */
export type PodAnnotations = (namespace: string, name: string) => Promise<Record<string, string>>;

/**
 * The network a CNI ADD asks for: the plugin's (CNI_ARGS or `args.cni`), else — with the
 * Kubernetes API at hand and the pod named in CNI_ARGS as kubelet does (K8S_POD_NAMESPACE,
 * K8S_POD_NAME) — the pod's `podroute.io/network` annotation. A pod whose annotation cannot be
 * read gets "try again later" (CNI code 11, the runtime retries), never the first network with
 * room: that could put it on a VLAN it must not reach.
 */
async function askedNetwork(body: unknown, pods: PodAnnotations | undefined): Promise<string | undefined> {
  const b = (body ?? {}) as Partial<CniRequest>;
  if (typeof b.network === 'string') return b.network;
  const namespace = b.args?.K8S_POD_NAMESPACE;
  const name = b.args?.K8S_POD_NAME;
  if (!pods || !namespace || !name) return undefined;
  let annotations: Record<string, string>;
  try {
    annotations = await pods(namespace, name);
  } catch (e) {
    throw new ApiError(503, `cannot read the ${NETWORK_ARG} annotation: ${(e as Error).message}`, {
      code: CniErrorCode.TryAgainLater,
    });
  }
  const asked = annotations[NETWORK_ARG];
  if (asked === undefined) return undefined;
  if (asked === '') {
    throw new ApiError(400, `pod ${namespace}/${name}: annotation ${NETWORK_ARG} is empty`, {
      code: CniErrorCode.InvalidNetworkConfig,
    });
  }
  return asked;
}

export function registerIpamApi(api: ApiServer, ipam: Ipam, pods?: PodAnnotations): void {
  api.route('POST /cni/add', async (body) => {
    try {
      const network = await askedNetwork(body, pods);
      const lease = await ipam.allocate(owner(body), network !== undefined ? { network } : {});
      return { ...cniAllocation(ipam, lease), block: lease.block, network: lease.network };
    } catch (e) {
      if (e instanceof IpamExhaustedError) throw new ApiError(507, e.message);
      // The pod's request names a network this node cannot serve: refused, never another one.
      if (e instanceof IpamNetworkError) {
        throw new ApiError(400, e.message, { code: CniErrorCode.NetworkNotAvailable });
      }
      throw e;
    }
  });
  api.route('POST /cni/del', async (body) => ({ released: await ipam.release(owner(body)) }));
  api.route('POST /cni/check', async (body) => {
    const lease = ipam.lookup(owner(body));
    if (!lease) throw new ApiError(404, 'no address is allocated to this container interface');
    return lease;
  });
  api.route('POST /cni/gc', async (body) => {
    const list = (body as { validAttachments?: unknown } | undefined)?.validAttachments;
    if (!Array.isArray(list)) throw new ApiError(400, 'validAttachments must be a list');
    const released = await ipam.gc(list.map(owner));
    return { released };
  });
  api.route('GET /ipam', async () => ipam.show());
  api.route('POST /ipam/release-node', async (body) => {
    const b = (body ?? {}) as { [K in keyof ReleaseNodeRequest]?: unknown };
    if (typeof b.name !== 'string' || b.name === '') throw new ApiError(400, 'name is required');
    try {
      const released = await ipam.releaseNode(b.name, { force: b.force === true });
      return { node: b.name, released };
    } catch (e) {
      if (e instanceof NodeAliveError) throw new ApiError(409, e.message);
      throw e;
    }
  });
}
