/**
 * The lab every BGP benchmark uses: a leaf namespace and a node namespace joined by one veth
 * (leaf eth1 198.18.0.0/31, node eth1 198.18.0.1/31), and the configs of the speakers under test.
 */
import { Lab, type Namespace } from '../../lab/fixture/index.js';

export const LEAF_ADDR = '198.18.0.0';
export const NODE_ADDR = '198.18.0.1';
export const LEAF_ASN = 65000;
export const NODE_ASN = 65001;

export interface TwoNamespaces {
  lab: Lab;
  leafNs: Namespace;
  nodeNs: Namespace;
}

export async function twoNamespaces(): Promise<TwoNamespaces> {
  const lab = await Lab.create();
  try {
    const leafNs = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    await lab.addLink(
      { ns: leafNs, ifname: 'eth1', addresses: [`${LEAF_ADDR}/31`] },
      { ns: nodeNs, ifname: 'eth1', addresses: [`${NODE_ADDR}/31`] },
    );
    return { lab, leafNs, nodeNs };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

/**
 * An ordinary datacenter leaf facing Kubernetes nodes: FRR's `datacenter` defaults (keepalive 3 s,
 * hold 9 s, advertisement interval 0, no eBGP policy requirement) and a dynamic-neighbor listen
 * range for the node subnet, so the leaf waits for the node to connect (as Calico's and MetalLB's
 * guides set leafs up). No timer is tuned: `timers bgp 1 3` is deliberately absent.
 */
export const FRR_LEAF_CONFIG = `frr defaults datacenter
hostname leaf
!
router bgp ${LEAF_ASN}
 bgp router-id ${LEAF_ADDR}
 no bgp ebgp-requires-policy
 neighbor NODES peer-group
 neighbor NODES remote-as external
 bgp listen range ${NODE_ADDR}/32 peer-group NODES
 address-family ipv4 unicast
  neighbor NODES activate
 exit-address-family
!
`;
