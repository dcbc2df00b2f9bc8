/**
 * Prometheus metrics and /healthz over HTTP (config `api.metrics`, e.g. 127.0.0.1:9473).
 * Gauges are filled from the status document at scrape time, so there is one source of truth and
 * nothing to keep in sync on the hot paths.
 */
import { createServer, type Server } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import type { StatusDocument } from './status.js';

const BGP_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

export function createMetricsRegistry(getStatus: () => StatusDocument): Registry {
  const registry = new Registry();
  const announced = new Gauge({
    name: 'podroute_announced_prefixes',
    help: 'Prefixes this node announces',
    registers: [registry],
    collect() {
      this.set(getStatus().announced.length);
    },
  });
  void announced;
  new Gauge({
    name: 'podroute_bgp_peer_state',
    help: 'BGP peer FSM state (1 for the current state)',
    labelNames: ['peer', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of getStatus().bgp?.peers ?? []) {
        for (const s of BGP_STATES) this.set({ peer: p.address, state: s }, p.state === s ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'podroute_bgp_peer_up',
    help: '1 when the BGP session is Established',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of getStatus().bgp?.peers ?? [])
        this.set({ peer: p.address }, p.state === 'Established' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'podroute_bgp_prefixes_sent',
    help: 'Prefixes announced to the peer',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of getStatus().bgp?.peers ?? []) this.set({ peer: p.address }, p.prefixesSent);
    },
  });
  new Gauge({
    name: 'podroute_bgp_prefixes_received',
    help: 'Prefixes received from the peer (before import policy)',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of getStatus().bgp?.peers ?? []) this.set({ peer: p.address }, p.prefixesReceived);
    },
  });
  new Gauge({
    name: 'podroute_ospf_neighbor_full',
    help: '1 when the OSPF neighbor is Full',
    labelNames: ['interface', 'neighbor'],
    registers: [registry],
    collect() {
      this.reset();
      for (const i of getStatus().ospf?.interfaces ?? []) {
        for (const n of i.neighbors)
          this.set({ interface: i.name, neighbor: n.routerId }, n.state === 'Full' ? 1 : 0);
      }
    },
  });
  return registry;
}

/** Serves /metrics and /healthz; `listen` is host:port from the config. */
export async function startMetricsServer(listen: string, registry: Registry): Promise<Server> {
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
