/**
 * The daemon's side of per-node peer selection (config/peer-selection.ts is the pure part): reads
 * the default gateways when an applying `address: gateway` entry needs them, logs what was chosen
 * and why, and returns the configuration with this node's BGP section (concrete ASN and peers),
 * which is what the speaker, BFD and reload's diff see. Start and reload both come here.
 */
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import type { Config } from '../config/index.js';
import {
  type Gateway,
  type NodeBgpConfig,
  needsGateways,
  type PeerSelectionEntry,
  selectNodeBgp,
} from '../config/peer-selection.js';
import type { Logger } from '../lib/log.js';

/** A config whose `bgp` is this node's. */
export type NodeConfig = Omit<Config, 'bgp'> & { bgp?: NodeBgpConfig };

export interface NodeSelection {
  config: NodeConfig;
  selection: PeerSelectionEntry[];
}

export interface SelectOptions {
  node: string;
  labels: Readonly<Record<string, string>>;
  logger: Logger;
  /** Test seam; default: the kernel's default routes (routes/gateways.ts). */
  readGateways?: (interfaces?: readonly string[]) => Promise<Gateway[]>;
  /** Test seam; default: os.networkInterfaces(). */
  interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * A link-local gateway gets its uplink's global IPv6 address (the first one the kernel lists) as
 * the next hop to announce (RFC 2545 3: a link-local next hop alone is not enough).
 */
function withGlobal6(gateways: Gateway[], ifs: NodeJS.Dict<NetworkInterfaceInfo[]>): Gateway[] {
  return gateways.map((g) => {
    if (g.family !== 6 || !/^fe[89ab]/i.test(g.address)) return g;
    const global = ifs[g.interface]?.find((a) => a.family === 'IPv6' && !/^fe[89ab]/i.test(a.address));
    return global ? { ...g, global6: global.address } : g;
  });
}

/** Throws PeerSelectionError (key.path lines) when the node has no valid local ASN. */
export async function selectForNode(config: Config, opts: SelectOptions): Promise<NodeSelection> {
  const bgp = config.bgp;
  if (!bgp) return { config: { ...config, bgp: undefined }, selection: [] };
  const log = opts.logger.child({ component: 'bgp' });
  let gateways: Gateway[] = [];
  if (needsGateways(bgp, opts.labels)) {
    const read =
      opts.readGateways ??
      (async (i?: readonly string[]) => (await import('../routes/gateways.js')).readDefaultGateways(i));
    gateways = withGlobal6(await read(config.routes?.interfaces), opts.interfaces ?? networkInterfaces());
    if (gateways.length === 0)
      log.warn({ node: opts.node }, 'address: gateway: the node has no default gateway');
    else
      log.info(
        { gateways: gateways.map((g) => `${g.address} via ${g.interface}`) },
        `address: gateway: found ${gateways.map((g) => g.address).join(', ')}`,
      );
  }
  const chosen = selectNodeBgp(bgp, { name: opts.node, labels: opts.labels, gateways });
  log.info(
    { asn: chosen.bgp.asn, asnSource: chosen.asnSource, peerSelection: chosen.selection },
    `peer selection: ${chosen.bgp.peers.length} of ${bgp.peers.length} entries' peers apply; local AS ${chosen.bgp.asn} from ${chosen.asnSource}`,
  );
  if (bgp.peers.length > 0 && chosen.bgp.peers.length === 0) {
    log.warn(
      { node: opts.node, labels: opts.labels },
      `no BGP peer applies to node ${opts.node}: its labels match no peer entry (or no gateway was found); running without sessions`,
    );
  }
  return { config: { ...config, bgp: chosen.bgp }, selection: chosen.selection };
}

/**
 * The daemon's holder: what applies now (for status), and what a reload chose until it is adopted
 * (a refused reload leaves the running selection shown).
 */
export class NodePeers {
  private current: PeerSelectionEntry[] | undefined;
  private pending: PeerSelectionEntry[] | undefined;

  constructor(
    private readonly node: string,
    private readonly labels: (config: Config) => Readonly<Record<string, string>>,
    private readonly logger: Logger,
  ) {}

  /** This node's configuration; `adopt` (now, or later) makes its selection the one shown. */
  async select(config: Config, adopt = false): Promise<NodeConfig> {
    const chosen = await selectForNode(config, {
      node: this.node,
      labels: this.labels(config),
      logger: this.logger,
    });
    this.pending = chosen.selection;
    if (adopt) this.adopt();
    return chosen.config;
  }

  adopt(): void {
    this.current = this.pending;
  }

  /** The status fields (`bgp.peerSelection`). */
  status(): { peerSelection?: PeerSelectionEntry[] } {
    return this.current && this.current.length > 0 ? { peerSelection: this.current } : {};
  }
}
