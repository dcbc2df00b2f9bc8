/**
 * Prometheus metrics and /healthz over HTTP (config `api.metrics`, e.g. 127.0.0.1:9473).
 * Every series is read from the status document at scrape time, so there is one source of truth
 * and nothing to keep in sync on the hot paths.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { StatusJson } from '../api/status.js';

const BGP_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

type Labels = Record<string, string>;
type Sample = [Labels, number];

function bgpPeers(doc: StatusJson) {
  return doc.bgp?.peers ?? [];
}

/** name → help, kind, and the samples it reads off the status document. */
interface Series {
  name: string;
  help: string;
  labels: string[];
  counter?: boolean;
  samples: (doc: StatusJson) => Sample[];
}

const SERIES: Series[] = [
  {
    name: 'podroute_announced_prefixes',
    labels: [],
    help: 'Prefixes this node announces',
    samples: (d) => [[{}, d.announced.length]],
  },
  {
    name: 'podroute_bgp_peer_state',
    labels: ['peer', 'state'],
    help: 'BGP peer FSM state (1 for the current state)',
    samples: (d) =>
      bgpPeers(d).flatMap((p) =>
        BGP_STATES.map((s): Sample => [{ peer: p.address, state: s }, p.state === s ? 1 : 0]),
      ),
  },
  {
    name: 'podroute_bgp_peer_up',
    labels: ['peer'],
    help: '1 when the BGP session is Established',
    samples: (d) => bgpPeers(d).map((p) => [{ peer: p.address }, p.state === 'Established' ? 1 : 0]),
  },
  {
    name: 'podroute_bgp_prefixes_sent',
    labels: ['peer'],
    help: 'Prefixes announced to the peer',
    samples: (d) => bgpPeers(d).map((p) => [{ peer: p.address }, p.prefixesSent]),
  },
  {
    name: 'podroute_bgp_prefixes_received',
    labels: ['peer'],
    help: 'Prefixes received from the peer (before import policy)',
    samples: (d) => bgpPeers(d).map((p) => [{ peer: p.address }, p.prefixesReceived]),
  },
  {
    name: 'podroute_bgp_messages_total',
    labels: ['peer', 'direction', 'type'],
    help: 'BGP messages by peer, direction and type',
    counter: true,
    samples: (d) =>
      bgpPeers(d).flatMap((p) => {
        return (['in', 'out'] as const).flatMap((dir) =>
          Object.entries(dir === 'in' ? p.counters.messagesIn : p.counters.messagesOut).map(
            ([type, n]): Sample => [{ peer: p.address, direction: dir, type }, n],
          ),
        );
      }),
  },
  {
    name: 'podroute_bgp_malformed_messages_total',
    labels: ['peer'],
    help: 'Messages from the peer that failed to decode (each answered with a NOTIFICATION)',
    counter: true,
    samples: (d) => bgpPeers(d).map((p) => [{ peer: p.address }, p.counters.malformed]),
  },
  {
    name: 'podroute_bgp_session_flaps_total',
    labels: ['peer'],
    help: 'Times an Established session went down',
    counter: true,
    samples: (d) => bgpPeers(d).map((p) => [{ peer: p.address }, p.counters.flaps]),
  },
  {
    name: 'podroute_ospf_neighbor_full',
    labels: ['interface', 'neighbor'],
    help: '1 when the OSPF neighbor is Full',
    samples: (d) =>
      (d.ospf?.interfaces ?? []).flatMap((i) =>
        i.neighbors.map(
          (n): Sample => [{ interface: i.name, neighbor: n.routerId }, n.state === 'Full' ? 1 : 0],
        ),
      ),
  },
  {
    name: 'podroute_ospf_dropped_packets_total',
    labels: ['reason'],
    help: 'OSPF packets and LSAs dropped, by reason (bad checksum, wrong area, auth, ...)',
    counter: true,
    samples: (d) => Object.entries(d.ospf?.dropped ?? {}).map(([reason, n]) => [{ reason }, n]),
  },
  {
    name: 'podroute_bfd_session_up',
    labels: ['peer', 'local'],
    help: '1 when the BFD session is Up (RFC 5880)',
    samples: (d) =>
      (d.bfd?.sessions ?? []).map((s) => [{ peer: s.peer, local: s.localAddress }, s.state === 'Up' ? 1 : 0]),
  },
  {
    name: 'podroute_bfd_transitions_total',
    labels: ['peer', 'to'],
    help: 'BFD session transitions to Up and to Down',
    counter: true,
    samples: (d) =>
      (d.bfd?.sessions ?? []).flatMap((s): Sample[] => [
        [{ peer: s.peer, to: 'up' }, s.counters.upTransitions],
        [{ peer: s.peer, to: 'down' }, s.counters.downTransitions],
      ]),
  },
  {
    name: 'podroute_bfd_dropped_packets_total',
    labels: ['peer', 'reason'],
    help: 'BFD packets dropped, by reason (TTL, version, length, discriminators; peer "" when no session)',
    counter: true,
    samples: (d) => [
      ...(d.bfd?.sessions ?? []).flatMap((s) =>
        Object.entries(s.counters.drops).map(([reason, n]): Sample => [{ peer: s.peer, reason }, n]),
      ),
      ...Object.entries(d.bfd?.unmatchedDrops ?? {}).map(([reason, n]): Sample => [{ peer: '', reason }, n]),
    ],
  },
  {
    name: 'podroute_routes_programmed',
    labels: [],
    help: 'Kernel routes podroute holds as desired',
    samples: (d) => (d.routes ? [[{}, d.routes.programmed]] : []),
  },
  {
    name: 'podroute_routes_errors_total',
    labels: [],
    help: 'Netlink errors while programming routes',
    counter: true,
    samples: (d) => (d.routes ? [[{}, d.routes.errors]] : []),
  },
  {
    name: 'podroute_aws_leader',
    labels: [],
    help: '1 when this node writes the cluster’s VPC route tables',
    samples: (d) => (d.aws ? [[{}, d.aws.leader ? 1 : 0]] : []),
  },
  {
    name: 'podroute_aws_routes_used',
    labels: [],
    help: 'VPC routes in the plan (leader only)',
    samples: (d) => (d.aws?.plan ? [[{}, d.aws.plan.routesUsed]] : []),
  },
  {
    name: 'podroute_aws_route_budget',
    labels: [],
    help: 'VPC route budget per table the plan was made for (leader only)',
    samples: (d) => (d.aws?.plan ? [[{}, d.aws.plan.budget]] : []),
  },
  {
    name: 'podroute_aws_unplanned_blocks',
    labels: [],
    help: 'Pod blocks the plan could not fit (leader only)',
    samples: (d) => (d.aws?.plan ? [[{}, d.aws.plan.unplanned.length]] : []),
  },
  {
    name: 'podroute_aws_api_errors_total',
    labels: ['code'],
    help: 'Failed EC2 calls by error code, throttling included',
    counter: true,
    samples: (d) => Object.entries(d.aws?.apiErrors ?? {}).map(([code, n]): Sample => [{ code }, n]),
  },
];

export function createMetricsRegistry(getStatus: () => StatusJson): Registry {
  const registry = new Registry();
  for (const s of SERIES) {
    const options = { name: s.name, help: s.help, labelNames: s.labels, registers: [registry] };
    if (s.counter) {
      new Counter({
        ...options,
        collect() {
          this.reset();
          for (const [labels, n] of s.samples(getStatus())) this.inc(labels, n);
        },
      });
    } else {
      new Gauge({
        ...options,
        collect() {
          this.reset();
          for (const [labels, n] of s.samples(getStatus())) this.set(labels, n);
        },
      });
    }
  }
  return registry;
}

/**
 * Serves /metrics, /healthz (liveness: the event loop answers) and, given `ready`, /readyz
 * (readiness, src/daemon/readiness.ts: 200, or 503 listing what is missing); `listen` is
 * host:port from the config.
 */
export async function startMetricsServer(
  listen: string,
  registry: Registry,
  ready?: () => { ready: boolean; waiting: readonly string[] },
): Promise<Server> {
  const sep = listen.lastIndexOf(':');
  const host = listen.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(sep + 1));
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (e: Error) => {
          res.writeHead(500);
          res.end(e.message);
        },
      );
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    } else if (req.url === '/readyz' && ready) {
      const r = ready();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(r.ready ? 'ok\n' : `${r.waiting.join('\n')}\n`);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
