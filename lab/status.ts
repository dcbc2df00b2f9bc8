/**
 * `podroute lab status`: the whole lab on one screen — every FRR router's BGP sessions and OSPF
 * neighbors (from vtysh's JSON), every podroute node's sessions and announcements (its local API),
 * every pod with its addresses, and the failures injected with `lab fail`. `--json` gives the same
 * data, with each node's full status document.
 */
import { ApiClient } from '../src/api/client.js';
import type { StatusJson } from '../src/api/status.js';
import { mapLimit } from './concurrency.js';
import { type LabState, run } from './fixture/index.js';
import { type Fault, metaOf, pidAlive, readFaults } from './state.js';

export interface Session {
  protocol: 'bgp' | 'ospf';
  peer: string;
  state: string;
  /** BGP: prefixes received. */
  prefixes?: number;
}

export interface NodeStatus {
  name: string;
  role: string;
  netns: string;
  sessions: Session[];
  /** podroute: the announced prefixes. */
  announced?: string[];
  /** podroute: the whole status document; null when the daemon does not answer. */
  status?: StatusJson | null;
  error?: string;
}

export interface LabStatus {
  name: string;
  runnerPid: number;
  runnerAlive: boolean;
  ready: boolean;
  tmpDir: string;
  nodes: NodeStatus[];
  pods: { name: string; node: string; netns: string; addresses: string[]; gateways: string[] }[];
  faults: Fault[];
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

interface FrrPeer {
  state?: string;
  pfxRcd?: number;
}

async function frrSessions(netns: string): Promise<Session[]> {
  const r = await run(
    'vtysh',
    ['-N', netns, '-c', 'show bgp summary json', '-c', 'show ip ospf neighbor json'],
    { allowFail: true, timeoutMs: 10_000 },
  );
  // vtysh prints the two documents one after the other: split at the top-level boundary.
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < r.stdout.length; i++) {
    const c = r.stdout[i];
    if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0 && start >= 0) docs.push(parse(r.stdout.slice(start, i + 1)));
    }
  }
  const out: Session[] = [];
  const seen = new Set<string>();
  for (const doc of docs) {
    if (!doc || typeof doc !== 'object') continue;
    const d = doc as Record<string, unknown>;
    if ('neighbors' in d) {
      for (const [rid, list] of Object.entries((d.neighbors as Record<string, unknown[]>) ?? {})) {
        for (const n of list as { nbrState?: string; state?: string; ifaceName?: string }[]) {
          const state = String(n.nbrState ?? n.state ?? '?').split('/')[0]!;
          out.push({
            protocol: 'ospf',
            peer: `${rid}${n.ifaceName ? `@${n.ifaceName.split(':')[0]}` : ''}`,
            state,
          });
        }
      }
      continue;
    }
    for (const af of Object.values(d)) {
      const peers = (af as { peers?: Record<string, FrrPeer> } | null)?.peers;
      for (const [addr, p] of Object.entries(peers ?? {})) {
        if (seen.has(addr)) continue;
        seen.add(addr);
        out.push({ protocol: 'bgp', peer: addr, state: p.state ?? '?', prefixes: p.pfxRcd ?? 0 });
      }
    }
  }
  return out;
}

function podrouteSessions(s: StatusJson): Session[] {
  const out: Session[] = [];
  for (const p of s.bgp?.peers ?? [])
    out.push({ protocol: 'bgp', peer: p.address, state: p.state, prefixes: p.prefixesReceived });
  for (const i of s.ospf?.interfaces ?? [])
    for (const n of i.neighbors)
      out.push({ protocol: 'ospf', peer: `${n.routerId}@${i.name}`, state: n.state });
  return out;
}

export async function collectStatus(name: string, state: LabState): Promise<LabStatus> {
  const meta = metaOf(state);
  const nodes = await mapLimit(meta.nodes ?? [], 8, async (n): Promise<NodeStatus> => {
    const base = { name: n.name, role: n.role, netns: n.netns };
    if (n.role === 'frr' && n.frr) return { ...base, sessions: await frrSessions(n.netns) };
    if (n.role === 'podroute' && n.socket) {
      try {
        const s = await new ApiClient(n.socket, 3000).call('GET /status');
        return { ...base, sessions: podrouteSessions(s), announced: s.announced, status: s };
      } catch (e) {
        return { ...base, sessions: [], status: null, error: (e as Error).message };
      }
    }
    return { ...base, sessions: [] };
  });
  return {
    name,
    runnerPid: state.ownerPid,
    runnerAlive: pidAlive(state.ownerPid),
    ready: meta.ready === true,
    tmpDir: state.tmpDir,
    nodes,
    pods: (meta.pods ?? []).map((p) => ({
      name: p.name,
      node: p.node,
      netns: p.netns,
      addresses: p.addresses,
      gateways: p.gateways,
    })),
    faults: readFaults(name),
  };
}

const UP = new Set(['Established', 'Full']);

function sessionText(s: Session): string {
  const mark = UP.has(s.state) ? '' : '!';
  return `${mark}${s.protocol} ${s.peer} ${s.state}${s.prefixes !== undefined && UP.has(s.state) ? ` (${s.prefixes} rcvd)` : ''}`;
}

export function formatStatus(st: LabStatus): string {
  const width = Math.max(8, ...st.nodes.map((n) => n.name.length), ...st.pods.map((p) => p.name.length));
  const lines = [
    `lab ${st.name}: runner pid ${st.runnerPid}${st.runnerAlive ? '' : ' (not running)'}` +
      `${st.ready ? '' : ', still building'}; logs and configs in ${st.tmpDir}`,
  ];
  const section = (title: string, rows: string[]): void => {
    if (rows.length === 0) return;
    lines.push('', title, ...rows);
  };
  section(
    'ROUTERS',
    st.nodes
      .filter((n) => n.role === 'frr')
      .map((n) => `  ${n.name.padEnd(width)}  ${n.sessions.map(sessionText).join(', ') || 'no sessions'}`),
  );
  section(
    'NODES (podroute)',
    st.nodes
      .filter((n) => n.role === 'podroute')
      .map((n) =>
        n.status
          ? `  ${n.name.padEnd(width)}  ${n.sessions.map(sessionText).join(', ') || 'no sessions'}; announces ${n.announced?.join(' ') || 'nothing'}`
          : `  ${n.name.padEnd(width)}  !not answering${n.error ? `: ${n.error}` : ''}`,
      ),
  );
  section(
    'HOSTS',
    st.nodes
      .filter((n) => n.role !== 'frr' && n.role !== 'podroute')
      .map((n) => `  ${n.name.padEnd(width)}  ${n.role}`),
  );
  section(
    'PODS',
    st.pods.map(
      (p) =>
        `  ${p.name.padEnd(width)}  ${p.addresses.join(' ').padEnd(18)}  gateway ${p.gateways.join(' ')}`,
    ),
  );
  section(
    'FAILED (podroute lab heal to undo)',
    st.faults.map((f) =>
      f.kind === 'link'
        ? `  link ${f.a} <-> ${f.b} ${f.silent ? 'silently dropping' : 'down'}`
        : `  ${f.node}: ${f.kind === 'podroute' ? 'podroute killed' : 'FRR stopped'}`,
    ),
  );
  return lines.join('\n');
}

/** Every podroute session up (BGP Established, OSPF Full): what `up` waits for before it returns. */
export function converged(st: LabStatus): boolean {
  return st.nodes
    .filter((n) => n.role === 'podroute')
    .every((n) => n.status && n.sessions.length > 0 && n.sessions.every((s) => UP.has(s.state)));
}
