/** Builds the protocol speakers from their config sections; the only place the daemon names them. */
import { BgpSpeaker } from '../bgp/speaker.js';
import type { BgpConfig } from '../config/bgp.js';
import type { OspfConfig } from '../config/ospf.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { OspfSpeaker } from '../ospf/speaker.js';
import type { Advertiser } from './advertiser.js';
import type { BgpSectionStatus, OspfSectionStatus } from './status.js';

export function createBgp(
  config: BgpConfig,
  routerId: string,
  clock: Clock,
  logger: Logger,
): Advertiser<BgpSectionStatus> {
  return new BgpSpeaker({
    asn: config.asn,
    routerId,
    peers: config.peers,
    listenPort: config.listenPort,
    clock,
    logger,
  });
}

export function createOspf(
  config: OspfConfig,
  routerId: string,
  clock: Clock,
  logger: Logger,
): Advertiser<OspfSectionStatus> & Pick<OspfSpeaker, 'database'> {
  return new OspfSpeaker({ routerId, config, clock, logger });
}
