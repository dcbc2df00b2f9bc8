/** SilenceWatch: the likely cause for a protected passive peer that never connects (ManualClock). */
import t from 'tap';
import { type SessionView, SilenceWatch } from '../../src/bgp/silence.js';
import { ManualClock } from '../../src/lib/clock.js';

const quiet = (): SessionView['counters'] => ({
  messagesIn: { open: 0, update: 0, notification: 0, keepalive: 0, routeRefresh: 0 },
});
const base = { address: '198.18.0.1', passive: true, connectRetryTime: 5 };

t.test('MD5: silent for two connect-retry times → the likely cause', async (t) => {
  const clock = new ManualClock();
  const w = new SilenceWatch({ ...base, password: 'k' }, clock);
  const s: SessionView = { state: 'Active', lastError: null, counters: quiet() };
  clock.advance(9_999);
  t.equal(w.lastError(s), null);
  clock.advance(1);
  t.equal(
    w.lastError(s),
    'no connection from 198.18.0.1 for 10 s — with a TCP MD5 password configured, a password mismatch is the likely cause',
  );
  t.equal(
    w.lastError({ ...s, lastError: 'peer closed the connection' }),
    'no connection from 198.18.0.1 for 10 s — with a TCP MD5 password configured, a password mismatch is the likely cause (before: peer closed the connection)',
  );
  t.equal(w.lastError({ ...s, state: 'Established' }), null, 'Established: the session speaks for itself');
});

t.test('a message restarts the quiet period; start() too', async (t) => {
  const clock = new ManualClock();
  const w = new SilenceWatch({ ...base, ttlSecurity: 2 }, clock);
  const c = quiet();
  clock.advance(20_000);
  c.messagesIn.open = 1; // an OPEN got through: TCP is fine
  t.equal(w.lastError({ state: 'OpenSent', lastError: 'x', counters: c }), 'x');
  clock.advance(9_000);
  t.equal(w.lastError({ state: 'Active', lastError: null, counters: c }), null);
  clock.advance(1_000);
  t.match(
    w.lastError({ state: 'Active', lastError: null, counters: c }),
    /more than 2 hops away or not sending with TTL 255/,
  );
  w.start();
  t.equal(w.lastError({ state: 'Active', lastError: null, counters: c }), null);
});

t.test('no hint without MD5/GTSM, nor for an active peer', async (t) => {
  const clock = new ManualClock();
  const plain = new SilenceWatch(base, clock);
  const active = new SilenceWatch({ ...base, passive: false, password: 'k' }, clock);
  clock.advance(600_000);
  const s: SessionView = { state: 'Active', lastError: null, counters: quiet() };
  t.equal(plain.lastError(s), null);
  t.equal(active.lastError(s), null);
});
