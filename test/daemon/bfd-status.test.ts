/** The `bfd` status section as people and Prometheus see it: the CLI table and the bfd series. */
import t from 'tap';
import type { StatusJson } from '../../src/api/status.js';
import type { BfdSessionStatus } from '../../src/bfd/index.js';
import { formatStatus } from '../../src/cli/format-status.js';
import { createMetricsRegistry } from '../../src/daemon/metrics.js';

const session: BfdSessionStatus = {
  peer: '198.18.0.0',
  localAddress: '198.18.0.1',
  state: 'Up',
  remoteState: 'Up',
  localDiscriminator: 7,
  remoteDiscriminator: 9,
  diagnostic: 'No Diagnostic',
  lastDiagnostic: 'Control Detection Time Expired',
  remoteDiagnostic: 'No Diagnostic',
  detectMult: 3,
  remoteDetectMult: 3,
  desiredMinTxMs: 100,
  requiredMinRxMs: 100,
  remoteDesiredMinTxMs: 100,
  remoteRequiredMinRxMs: 100,
  txIntervalMs: 100,
  rxIntervalMs: 100,
  detectTimeMs: 300,
  pollActive: false,
  sinceMs: 1000,
  counters: {
    packetsIn: 50,
    packetsOut: 52,
    upTransitions: 2,
    downTransitions: 1,
    drops: { ttl: 3, 'bad-version': 1 },
  },
};

const doc: StatusJson = {
  node: 'node1',
  routerId: '198.18.0.1',
  announced: [],
  bfd: { sessions: [session], unmatchedDrops: { 'no-session': 4 }, sendErrors: 0 },
};

t.test(
  'podroute status: one BFD row per session, state, intervals, Detection Time, last diagnostic, auth',
  async (t) => {
    const text = formatStatus(doc);
    t.match(text, /BFD peer\s+Local\s+State\s+Remote\s+Tx\/Rx ms\s+Detect ms\s+Last diagnostic\s+Auth/);
    t.match(
      text,
      /198\.18\.0\.0\s+198\.18\.0\.1\s+Up\s+Up\s+100\/100\s+300\s+Control Detection Time Expired\s+-/,
    );
    t.match(text, /BFD dropped from 198\.18\.0\.0: ttl 3, bad-version 1/);
    t.match(text, /BFD dropped \(no session\): no-session 4/);
    const authed = formatStatus({
      ...doc,
      bfd: {
        sessions: [
          {
            ...session,
            state: 'Down',
            authentication: { type: 'keyed-sha1', keyId: 7 },
            counters: { ...session.counters, drops: { 'auth-failed': 27 } },
          },
        ],
        unmatchedDrops: {},
        sendErrors: 0,
      },
    });
    t.match(authed, /Control Detection Time Expired\s+keyed-sha1 key 7/, 'authentication type and key ID');
    t.match(authed, /BFD dropped from 198\.18\.0\.0: auth-failed 27/, 'why it stays Down');
    const none = formatStatus({ ...doc, bfd: { sessions: [], unmatchedDrops: {}, sendErrors: 0 } });
    t.match(none, /BFD: \(no sessions yet\)/);
    t.notMatch(formatStatus({ ...doc, bfd: undefined }), /BFD/, 'no bfd section, no BFD lines');
  },
);

t.test('metrics: session up, transitions, drops by reason (unmatched with peer "")', async (t) => {
  const text = await createMetricsRegistry(() => doc).metrics();
  t.match(text, 'podroute_bfd_session_up{peer="198.18.0.0",local="198.18.0.1"} 1');
  t.match(text, 'podroute_bfd_transitions_total{peer="198.18.0.0",to="up"} 2');
  t.match(text, 'podroute_bfd_transitions_total{peer="198.18.0.0",to="down"} 1');
  t.match(text, 'podroute_bfd_dropped_packets_total{peer="198.18.0.0",reason="ttl"} 3');
  t.match(text, 'podroute_bfd_dropped_packets_total{peer="",reason="no-session"} 4');
  const down = await createMetricsRegistry(() => ({
    ...doc,
    bfd: { sessions: [{ ...session, state: 'Down' }], unmatchedDrops: {}, sendErrors: 0 },
  })).metrics();
  t.match(down, 'podroute_bfd_session_up{peer="198.18.0.0",local="198.18.0.1"} 0');
});
