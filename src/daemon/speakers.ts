/**
 * Builds the protocol speakers from their config sections; the only place the daemon names them.
 * Each is loaded on demand: a BGP-only node never loads the OSPF stack (raw sockets) and the
 * reverse, which keeps start-up time and memory down.
 */
import type { BgpStatus, OspfStatus } from '../api/status.js';
import type { BgpSpeaker } from '../bgp/speaker.js';
import type { OspfConfig } from '../config/ospf.js';
import type { NodeBgpConfig } from '../config/peer-selection.js';
import type { AnnounceEntry } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { OspfSpeaker } from '../ospf/speaker.js';
import type { Advertiser } from './advertiser.js';

export type BgpAdvertiser = Advertiser<BgpStatus> &
  Pick<
    BgpSpeaker,
    | 'onReceivedChange'
    | 'learnedChanges'
    | 'shownRoutes'
    | 'onPeerState'
    | 'pathDown'
    | 'resumePeer'
    | 'onRibSynced'
    | 'setPrefixTags'
    | 'removePeer'
    | 'addPeer'
    | 'reconfigurePeer'
    | 'setGlobals'
  >;
export type OspfAdvertiser = Advertiser<OspfStatus> & Pick<OspfSpeaker, 'database'>;

/**
 * `forwardingPreserved`: a previous podroute's kernel routes were found (graceful restart);
 * `announce`: the configured announce entries, for their per-prefix communities.
 */
export async function createBgp(
  config: NodeBgpConfig,
  routerId: string,
  clock: Clock,
  logger: Logger,
  forwardingPreserved = false,
  announce: readonly AnnounceEntry[] = [],
): Promise<BgpAdvertiser> {
  const { BgpSpeaker } = await import('../bgp/speaker.js');
  const { prefixTagsFromAnnounce } = await import('../bgp/communities.js');
  const speaker = new BgpSpeaker({
    asn: config.asn,
    routerId,
    peers: config.peers,
    listenPort: config.listenPort,
    clock,
    logger,
    ...(config.gracefulRestart ? { gracefulRestart: config.gracefulRestart, forwardingPreserved } : {}),
    communities: { communities: config.communities, largeCommunities: config.largeCommunities },
    gracefulShutdownWait: config.gracefulShutdown?.wait ?? 0,
  });
  speaker.setPrefixTags(prefixTagsFromAnnounce(announce));
  return speaker;
}

export async function createOspf(
  config: OspfConfig,
  routerId: string,
  clock: Clock,
  logger: Logger,
): Promise<OspfAdvertiser> {
  const { OspfSpeaker } = await import('../ospf/speaker.js');
  return new OspfSpeaker({ routerId, config, clock, logger });
}
