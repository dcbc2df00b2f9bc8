/**
 * `podroute status` without --json: the table form people read, from a status document typed as
 * the daemon serves it.
 */
import t from 'tap';
import type { BgpPeerStatus, StatusJson } from '../../src/api/status.js';
import { formatDuration, formatStatus } from '../../src/cli/format-status.js';

const peer = (over: Partial<BgpPeerStatus>): BgpPeerStatus => ({
  address: '198.18.0.1',
  asn: 65000,
  state: 'Established',
  uptimeSeconds: 3725,
  prefixesSent: 1,
  prefixesReceived: 0,
  lastError: null,
  passive: false,
  localAddress: '198.18.0.2',
  holdTime: 90,
  prefixesAccepted: 0,
  families: ['ipv4-unicast'],
  counters: {} as BgpPeerStatus['counters'],
  ...over,
});

const doc: StatusJson = {
  node: 'node1',
  routerId: '198.18.0.2',
  announced: ['198.19.1.0/24'],
  bgp: {
    asn: 65001,
    peers: [
      peer({ description: 'leaf1' }),
      peer({
        address: '198.18.0.5',
        state: 'Active',
        uptimeSeconds: 0,
        prefixesSent: 0,
        lastError: 'connect ECONNREFUSED',
      }),
    ],
    listenPort: null,
    unknownConnections: 0,
  },
  ospf: {
    routerId: '198.18.0.2',
    interfaces: [
      {
        name: 'eth1',
        state: 'DR',
        area: '0.0.0.0',
        network: 'broadcast',
        address: '198.18.1.2',
        dr: '198.18.1.2',
        bdr: '198.18.1.1',
        neighbors: [
          {
            routerId: '198.18.0.1',
            address: '198.18.1.1',
            state: 'Full',
            priority: 1,
            uptimeSeconds: 61,
            ddRole: 'slave',
          },
        ],
      },
      {
        name: 'eth2',
        state: 'Down',
        area: '0.0.0.1',
        network: 'point-to-point',
        address: '0.0.0.0',
        dr: '0.0.0.0',
        bdr: '0.0.0.0',
        neighbors: [],
      },
    ],
    announced: ['198.19.1.0/24'],
    lsdbSize: 3,
    dropped: { 'bad-checksum': 2 },
  },
};

t.test('durations read as gobgp prints session age', async (t) => {
  t.equal(formatDuration(12), '00:00:12');
  t.equal(formatDuration(90061), '1d01:01:01');
  t.equal(formatDuration(-3), '00:00:00');
});

t.test('peers, interfaces, neighbors and drops in fixed columns', async (t) => {
  const lines = formatStatus(doc).split('\n');
  t.equal(lines[0], 'Node node1  router-id 198.18.0.2');
  t.equal(lines[1], 'Announced: 198.19.1.0/24');
  t.equal(lines[3], 'BGP  local AS 65001');
  t.match(lines[4], /^Peer +AS +State +Up\/Down +Sent +Rcvd +Last error$/);
  t.match(lines[5], /^198\.18\.0\.1 \(leaf1\) +65000 +Established +01:02:05 +1 +0 +-$/);
  t.match(lines[6], /^198\.18\.0\.5 +65000 +Active +- +0 +0 +connect ECONNREFUSED$/);
  const text = lines.join('\n');
  t.match(text, /\nOSPF {2}router-id 198\.18\.0\.2\n/);
  t.match(
    text,
    /\neth1 +0\.0\.0\.0 +broadcast +DR +198\.18\.1\.2 +198\.18\.1\.1\n/,
    'the backbone area by its ID',
  );
  t.match(text, /\neth2 +0\.0\.0\.1 +point-to-point +Down +- +-\n/, 'no DR or BDR: -');
  t.match(text, /\n198\.18\.0\.1 +1 +Full\/Backup +00:01:01 +198\.18\.1\.1 +eth1:198\.18\.1\.2\n/);
  t.equal(lines.at(-1), 'Dropped: bad-checksum 2');
});

t.test('sections of protocols not configured are left out', async (t) => {
  const text = formatStatus({ node: 'n', routerId: '198.18.0.9', announced: [] });
  t.equal(text, 'Node n  router-id 198.18.0.9\nAnnounced: (nothing)');
});
