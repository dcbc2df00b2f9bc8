/**
 * Readiness (/readyz): ready once every BGP peer has been Established at least once and IPAM holds
 * a block (or is not configured); a session going down afterwards keeps the pod ready. Served by
 * the metrics server beside /healthz.
 */
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { StatusJson } from '../../src/api/status.js';
import { createMetricsRegistry, startMetricsServer } from '../../src/daemon/metrics.js';
import { Readiness } from '../../src/daemon/readiness.js';

type PeerState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
function doc(states: Record<string, PeerState>): StatusJson {
  return {
    node: 'n1',
    routerId: '198.18.0.1',
    announced: [],
    bgp: {
      asn: 65001,
      peers: Object.entries(states).map(([address, state]) => ({
        address,
        asn: 65000,
        state,
        uptimeSeconds: 0,
        prefixesSent: 0,
        prefixesReceived: 0,
        lastError: null,
      })),
    },
  } as unknown as StatusJson;
}

t.test('sessions Established once, IPAM holding a block', async (t) => {
  let status = doc({ '198.18.0.0': 'Active', '198.18.0.2': 'Established' });
  let block: boolean | undefined = false;
  const r = new Readiness({ status: () => status, holdsBlock: () => block });
  t.same(r.check(), {
    ready: false,
    waiting: ['BGP peer 198.18.0.0 has not been Established yet (now Active)', 'IPAM holds no block yet'],
  });
  status = doc({ '198.18.0.0': 'Established', '198.18.0.2': 'Established' });
  t.same(r.check().waiting, ['IPAM holds no block yet']);
  block = true;
  t.same(r.check(), { ready: true, waiting: [] });
  status = doc({ '198.18.0.0': 'Idle', '198.18.0.2': 'Connect' });
  t.equal(r.check().ready, true, 'a session lost later keeps the pod ready');
  const noIpam = new Readiness({ status: () => doc({}), holdsBlock: () => undefined });
  t.equal(noIpam.check().ready, true, 'no BGP peers, no IPAM: ready');
});

t.test('/readyz and /healthz on the metrics server', async (t) => {
  let ready = false;
  const server = await startMetricsServer(
    '127.0.0.1:0',
    createMetricsRegistry(() => doc({})),
    () => ({
      ready,
      waiting: ready ? [] : ['BGP peer 198.18.0.0 has not been Established yet (now Active)'],
    }),
  );
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const no = await fetch(`${base}/readyz`);
  t.equal(no.status, 503);
  t.match(await no.text(), /198\.18\.0\.0 has not been Established/);
  ready = true;
  const yes = await fetch(`${base}/readyz`);
  t.equal(yes.status, 200);
  t.equal((await fetch(`${base}/healthz`)).status, 200);
});
