/**
 * The people's view of the status document, in the manner of `birdc show protocols`,
 * `gobgp neighbor` and `show ip ospf neighbor`: fixed columns, one row per peer or neighbor.
 */
import type { OspfInterfaceStatus, OspfStatus, StatusJson } from '../api/status.js';
import { formatAwsStatus } from '../routes/aws/format.js';
import type { LearnedStatus } from '../routes/learned-view.js';
import { formatPeerSelection } from './format-peer-selection.js';
import { formatVlans } from './format-vlans.js';

/** Renders rows as left-aligned columns separated by two spaces. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

/** 12 → 00:00:12, 90061 → 1d01:01:01 (as gobgp shows session age). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const hms = [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60].map((n) =>
    String(n).padStart(2, '0'),
  );
  return (d > 0 ? `${d}d` : '') + hms.join(':');
}

/** The node-GC Lease: who releases deleted Nodes' blocks, and whether that is this node. */
export function formatNodeGc(gc: NonNullable<StatusJson['nodeGc']>, node: string): string[] {
  const l = gc.lease;
  const who =
    l.holder === null
      ? '(none)'
      : l.holder === node
        ? `${l.holder} (this node${l.leading ? ', leading' : ', not leading: renewal overdue'})`
        : `${l.holder} (another node; this one is not leading)`;
  const out = [
    `Deleted-node release  Lease ${l.namespace}/${l.name} (${l.leaseDurationSeconds} s)`,
    table([
      ['  Holder', who],
      ['  Renewed', l.renewTime ?? '-'],
    ]),
  ];
  if (gc.waiting.length) out.push(`  Waiting out the grace period: ${gc.waiting.join(', ')}`);
  if (gc.released.length)
    out.push(`  Released here: ${gc.released.map((r) => `${r.node} (${r.blocks} blocks)`).join(', ')}`);
  if (l.error) out.push(`  Lease error: ${l.error}`);
  return out;
}

export function formatStatus(doc: StatusJson): string {
  const out: string[] = [];
  out.push(`Node ${doc.node}  router-id ${doc.routerId}`);
  out.push(`Announced: ${doc.announced.length ? doc.announced.join(', ') : '(nothing)'}`);
  if (doc.bgp) {
    out.push('', `BGP  local AS ${doc.bgp.asn}`);
    const rows = [['Peer', 'AS', 'State', 'Up/Down', 'Sent', 'Rcvd', 'Last error']];
    for (const p of doc.bgp.peers) {
      const label = p.description === undefined ? p.address : `${p.address} (${p.description})`;
      rows.push([
        label,
        String(p.asn),
        p.state,
        p.state === 'Established' ? formatDuration(p.uptimeSeconds) : '-',
        String(p.prefixesSent),
        String(p.prefixesReceived),
        p.lastError ?? '-',
      ]);
    }
    out.push(table(rows));
    out.push(...formatGracefulRestart(doc.bgp));
    out.push(...formatPeerSelection(doc.bgp.peerSelection, table));
  }
  if (doc.bfd) out.push('', ...formatBfd(doc.bfd));
  if (doc.aws) out.push('', ...formatAwsStatus(doc.aws));
  if (doc.nodeGc) out.push('', ...formatNodeGc(doc.nodeGc, doc.node));
  if (doc.vlans?.length) out.push('', ...formatVlans(doc.vlans, table));
  if (doc.routes?.learned && doc.routes.learned.paths > 0) out.push('', ...formatLearned(doc.routes.learned));
  if (doc.ospf) out.push('', ...formatOspf(doc.ospf));
  return out.join('\n');
}

/** Graceful restart (RFC 4724): our restart's progress, then per peer what was agreed and what we keep. */
export function formatGracefulRestart(bgp: NonNullable<StatusJson['bgp']>): string[] {
  const g = bgp.gracefulRestart;
  const peers = bgp.peers.filter((p) => p.gracefulRestart);
  if (!g && peers.length === 0) return [];
  const head = g ? `Graceful restart  restart time ${g.restartTime} s` : 'Graceful restart';
  const waiting =
    g?.restarting && g.waitingFor.length > 0
      ? `  (restarting: waiting for ${g.waitingFor.join(', ')}, ${g.secondsLeft ?? 0} s left)`
      : '';
  const rows = [['Peer', 'Negotiated', 'Peer time', 'N bit', 'Helping']];
  for (const p of peers) {
    const r = p.gracefulRestart!;
    rows.push([
      p.address,
      r.negotiated ? 'yes' : 'no',
      r.peerRestartTime === null ? '-' : `${r.peerRestartTime} s`,
      r.notification ? 'yes' : 'no',
      r.helping ? `${r.staleRoutes} stale, ${r.staleSecondsLeft ?? 0} s left` : '-',
    ]);
  }
  return ['', head + waiting, table(rows)];
}

/**
 * Routes received from BGP peers, like `show ip bgp`: one row per path (prefix, the next hop it
 * resolves to, peer, AS path, best / ECMP member, in the kernel or why not). The daemon sends at
 * most a bounded number of rows; the counts cover all of them.
 */
function formatLearned(l: LearnedStatus): string[] {
  const out = [`Learned routes: ${l.paths} paths, ${l.prefixes} prefixes, ${l.installed} installed`];
  const rows = [['Prefix', 'Next hop', 'Peer', 'AS path', 'Best', 'Kernel']];
  for (const r of l.routes) {
    rows.push([
      r.prefix,
      r.via ?? r.nextHop,
      r.peer,
      r.asPath || '(local)',
      r.selected === 'best' ? 'best' : r.selected === 'multipath' ? 'ecmp' : '-',
      r.installed ? 'installed' : `no: ${r.reason ?? 'unknown'}`,
    ]);
  }
  out.push(table(rows));
  if (l.omitted > 0) out.push(`(${l.omitted} more paths not listed; the counts above include them)`);
  return out;
}

/**
 * BFD sessions like FRR's `show bfd peers brief` plus the timers: state at both ends, the negotiated
 * transmit and receive intervals and Detection Time (RFC 5880 6.8.2, 6.8.4), the last diagnostic,
 * the authentication type and key ID (6.7; never the key), then the packets each session dropped.
 */
function formatBfd(bfd: NonNullable<StatusJson['bfd']>): string[] {
  const rows = [['BFD peer', 'Local', 'State', 'Remote', 'Tx/Rx ms', 'Detect ms', 'Last diagnostic', 'Auth']];
  // A session held Down by a key mismatch shows it only here: its packets are dropped (6.8.6).
  const dropped: string[] = [];
  for (const s of bfd.sessions) {
    const peer = s.interface ? `${s.peer}%${s.interface}` : s.peer;
    rows.push([
      peer,
      s.localAddress,
      s.state,
      s.remoteState,
      `${s.txIntervalMs}/${s.rxIntervalMs}`,
      String(s.detectTimeMs),
      s.lastDiagnostic ?? '-',
      s.authentication ? `${s.authentication.type} key ${s.authentication.keyId}` : '-',
    ]);
    const drops = Object.entries(s.counters.drops);
    if (drops.length)
      dropped.push(`BFD dropped from ${peer}: ${drops.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const out = [rows.length > 1 ? table(rows) : 'BFD: (no sessions yet)', ...dropped];
  const drops = Object.entries(bfd.unmatchedDrops);
  if (drops.length) out.push(`BFD dropped (no session): ${drops.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return out;
}

/** The neighbor's role on its segment, as `show ip ospf neighbor` prints it after the state. */
function ospfRole(iface: OspfInterfaceStatus, address: string): string {
  if (iface.network !== 'broadcast') return '-';
  if (address === iface.dr) return 'DR';
  if (address === iface.bdr) return 'Backup';
  return 'DROther';
}

/**
 * The OSPF part: one line per interface, then the neighbors in the columns of FRR's
 * `show ip ospf neighbor` (Neighbor ID, Pri, State/role, Up Time, Address, Interface:address),
 * then the drop counters when there are any.
 */
function formatOspf(ospf: OspfStatus): string[] {
  const out = [`OSPF  router-id ${ospf.routerId}`];
  // RFC 2328 9: a DR or BDR of 0.0.0.0 means none.
  const router = (id: string): string => (id === '0.0.0.0' ? '-' : id);
  const ifRows = [['Interface', 'Area', 'Network', 'State', 'DR', 'BDR']];
  for (const i of ospf.interfaces) {
    ifRows.push([i.name, i.area, i.network, i.state, router(i.dr), router(i.bdr)]);
  }
  out.push(table(ifRows), '');
  const nRows = [['Neighbor ID', 'Pri', 'State', 'Up Time', 'Address', 'Interface']];
  for (const i of ospf.interfaces) {
    for (const n of i.neighbors) {
      nRows.push([
        n.routerId,
        String(n.priority),
        `${n.state}/${ospfRole(i, n.address)}`,
        n.state === 'Full' ? formatDuration(n.uptimeSeconds) : '-',
        n.address,
        `${i.name}:${i.address}`,
      ]);
    }
  }
  out.push(nRows.length > 1 ? table(nRows) : '(no neighbors)');
  const drops = Object.entries(ospf.dropped);
  if (drops.length) out.push('', `Dropped: ${drops.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return out;
}
