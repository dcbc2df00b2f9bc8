/**
 * The local API's address-management endpoints: what the CNI plugin (`/cni/*`) and
 * `podroute ipam` (`/ipam*`) ask. Maps IPAM outcomes to HTTP statuses the clients turn into
 * CNI error codes or exit codes.
 */
import type { CniAllocation, CniRequest } from '../cni/spec.js';
import { type Ipam, IpamExhaustedError, type Owner } from '../ipam/ipam.js';
import { NodeAliveError } from '../ipam/store/types.js';
import { ApiError, type ApiServer } from './api-server.js';

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

export function registerIpamApi(api: ApiServer, ipam: Ipam): void {
  api.route('POST', '/cni/add', async (body) => {
    try {
      const lease = await ipam.allocate(owner(body));
      const out: CniAllocation = { address: lease.address, prefixLength: lease.prefixLength };
      if (lease.gateway) out.gateway = lease.gateway;
      return { status: 200, body: { ...out, block: lease.block, network: lease.network } };
    } catch (e) {
      if (e instanceof IpamExhaustedError) throw new ApiError(507, e.message);
      throw e;
    }
  });
  api.route('POST', '/cni/del', async (body) => ({
    status: 200,
    body: { released: await ipam.release(owner(body)) },
  }));
  api.route('POST', '/cni/check', async (body) => {
    const lease = ipam.lookup(owner(body));
    if (!lease) throw new ApiError(404, 'no address is allocated to this container interface');
    return { status: 200, body: lease };
  });
  api.route('GET', '/ipam', async () => ({ status: 200, body: ipam.show() }));
  api.route('POST', '/ipam/release-node', async (body) => {
    const b = (body ?? {}) as { name?: unknown; force?: unknown };
    if (typeof b.name !== 'string' || b.name === '') throw new ApiError(400, 'name is required');
    try {
      const released = await ipam.releaseNode(b.name, { force: b.force === true });
      return { status: 200, body: { node: b.name, released } };
    } catch (e) {
      if (e instanceof NodeAliveError) throw new ApiError(409, e.message);
      throw e;
    }
  });
}
