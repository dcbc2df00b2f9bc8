/**
 * Live reload (`podroute reload`, SIGHUP): reads the configuration file again, validates it as at
 * start, and applies the difference (src/config/diff.ts) to the running daemon without touching
 * what did not change:
 *
 *  - a removed peer is taken down on purpose (the speaker's removePeer: RFC 8326 GRACEFUL_SHUTDOWN
 *    and its wait when configured, withdrawals, Cease / Administrative Shutdown with a reason,
 *    RFC 9003); an added peer starts;
 *  - a peer whose session settings changed (OPEN, TCP or socket settings) is stopped the same way
 *    and started again with the new ones; no other session is reset;
 *  - export policy, communities and next hops go out as UPDATEs on the running session;
 *  - an import policy change filters the kept routes again at once, and asks the peer for its
 *    routes once more with an RFC 2918 ROUTE-REFRESH (every peer we know, FRR, BIRD, GoBGP, offers
 *    the capability), so routes the new policy allows come back. The Adj-RIB-In is not kept
 *    unfiltered to replay it locally: a full table's refused routes would then be held with all
 *    their attributes forever, for a rare reload. A peer without the capability gets its session
 *    reset instead, the only other way to have its routes sent again.
 *  - changed announcements reach every speaker through the daemon's reconcile (UPDATEs).
 *
 * A file that does not validate, or a change that needs a restart, is refused as a whole with its
 * `key.path: rule` lines, and the running configuration stays.
 */
import type { ReloadResponse } from '../api/endpoints.js';
import { ApiError } from '../api/server.js';
import { prefixTagsFromAnnounce } from '../bgp/communities.js';
import type { BgpSpeaker } from '../bgp/speaker.js';
import { type ConfigDiff, diffConfig, type PeerChange } from '../config/diff.js';
import { type Config, ConfigError, loadConfig } from '../config/index.js';
import type { Logger } from '../lib/log.js';
import { checkKubernetesConfig } from './kubernetes.js';

/** What reload needs of the speaker (src/bgp/speaker.ts). */
export type ReloadableBgp = Pick<
  BgpSpeaker,
  'addPeer' | 'removePeer' | 'reconfigurePeer' | 'setPrefixTags' | 'setGlobals'
>;

export interface ReloadTarget {
  /** The configuration running now. */
  readonly config: Config;
  readonly bgp: ReloadableBgp | undefined;
  readonly node: string;
  /** Makes `next` the running configuration and reconciles the announcements. */
  adopt(next: Config): void;
  readonly logger: Logger;
  /** Makes a file's configuration this node's (per-node peer selection, peer-selection.ts). */
  resolve?(next: Config): Promise<Config>;
}

/** The reload was refused: nothing changed; `problems` are one line each. */
export class ReloadRefused extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'ReloadRefused';
  }
}

/** Reads and checks `file`; throws ReloadRefused with the start-up lines when it is bad. */
export function readNewConfig(file: string): Config {
  try {
    const config = loadConfig(file);
    checkKubernetesConfig(config);
    return config;
  } catch (e) {
    if (e instanceof ConfigError) throw new ReloadRefused(e.problems);
    throw new ReloadRefused([(e as Error).message]);
  }
}

/** Validates the change (throws ReloadRefused), then applies it; returns a line per thing done. */
export async function applyReload(target: ReloadTarget, next: Config): Promise<string[]> {
  const diff = diffConfig(target.config, next);
  if (diff.refused.length > 0) throw new ReloadRefused(diff.refused);
  const applied: string[] = [];
  if (diff.unchanged) return applied;
  const bgp = target.bgp;
  if (bgp && next.bgp) {
    await applyPeers(bgp, diff, target.node, applied);
    if (diff.bgpGlobalsChanged) {
      const { communities, largeCommunities, gracefulShutdown } = next.bgp;
      bgp.setGlobals({
        communities: { communities, largeCommunities },
        gracefulShutdownWait: gracefulShutdown?.wait ?? 0,
      });
      applied.push('bgp communities / graceful shutdown updated');
    }
    if (diff.announcementsChanged) bgp.setPrefixTags(prefixTagsFromAnnounce(next.announce));
  }
  target.adopt(next);
  if (diff.announcementsChanged) applied.push('announcements updated');
  return applied;
}

async function applyPeers(bgp: ReloadableBgp, diff: ConfigDiff, node: string, applied: string[]) {
  const why = `peer removed from the configuration of podroute on ${node}`;
  const reset = async (c: PeerChange, keys: readonly string[]) => {
    await bgp.removePeer(
      c.before.address,
      `configuration of podroute on ${node} changed: ${keys.join(', ')}`,
    );
    await bgp.addPeer(c.after);
    applied.push(`bgp peer ${c.after.address}: session reset for ${keys.join(', ')}`);
  };
  // Removals first: a peer moved to another address must not meet its old session.
  await Promise.all(
    diff.peersRemoved.map(async (p) => {
      await bgp.removePeer(p.address, why);
      applied.push(`bgp peer ${p.address}: removed`);
    }),
  );
  await Promise.all(
    diff.peersChanged.map(async (c) => {
      if (c.reset) return reset(c, c.keys);
      const refreshed = bgp.reconfigurePeer(c.after, {
        exports: c.export,
        imports: c.import,
        resend: c.resend,
      });
      if (!refreshed) return reset(c, [...c.keys, '(no route refresh capability)']);
      applied.push(`bgp peer ${c.after.address}: ${c.keys.join(', ')} applied without a session reset`);
    }),
  );
  for (const p of diff.peersAdded) {
    await bgp.addPeer(p);
    applied.push(`bgp peer ${p.address}: added`);
  }
}

/**
 * Reloads are done one at a time, in order: a SIGHUP during a `podroute reload` waits for it, then
 * reads the file again.
 */
export class Reloader {
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly target: () => ReloadTarget | undefined,
  ) {}

  reload(source: string): Promise<string[]> {
    const run = this.last.then(() => this.once(source));
    this.last = run.catch(() => {});
    return run;
  }

  private async once(source: string): Promise<string[]> {
    const target = this.target();
    if (!target) throw new ReloadRefused(['reload: the daemon is starting or stopping; try again']);
    const log = target.logger;
    try {
      const read = readNewConfig(this.file);
      const applied = await applyReload(target, target.resolve ? await target.resolve(read) : read);
      if (applied.length === 0) log.info({ source, file: this.file }, 'reload: configuration unchanged');
      else log.info({ source, file: this.file, applied }, `reload applied: ${applied.join('; ')}`);
      return applied;
    } catch (e) {
      const problems = e instanceof ReloadRefused ? e.problems : [(e as Error).message];
      log.error({ source, file: this.file, problems }, `reload refused: ${problems.join('; ')}`);
      throw e instanceof ReloadRefused ? e : new ReloadRefused(problems);
    }
  }
}

/** The daemon's reloader: `target` answers undefined while the daemon starts or stops. */
export function reloadHook(daemon: { reloadTarget(): ReloadTarget | undefined }, file: string): Reloader {
  return new Reloader(file, () => daemon.reloadTarget());
}

/** POST /reload: what was applied, or 422 with the problems (one line each). */
export async function reloadAnswer(node: string, reloader: Reloader): Promise<ReloadResponse> {
  try {
    return { node, applied: await reloader.reload('podroute reload') };
  } catch (e) {
    const problems = e instanceof ReloadRefused ? e.problems : [(e as Error).message];
    throw new ApiError(422, `reload refused: ${problems.join('; ')}`, { problems });
  }
}
