/**
 * When the next instance of one of our LSAs may go out (RFC 2328 12.4 MinLSInterval 5 s,
 * 13 (5)(a) MinLSArrival 1 s at the neighbor, 13.4 fight-back), as a table.
 */
import t from 'tap';
import { nextOriginationAt, type OriginationTimes } from '../../src/ospf/origination-timing.js';

const NOW = 100_000;
const base: OriginationTimes = {
  now: NOW,
  lastOriginated: undefined,
  unflooded: false,
  lastExchangeStart: 0,
  force: false,
  fightBack: false,
};

const rows: [string, Partial<OriginationTimes>, number][] = [
  ['never originated: at once', {}, NOW],
  ['never originated, forced: at once', { force: true }, NOW],
  ['2 s after the last: MinLSInterval, 3 s more', { lastOriginated: NOW - 2000 }, NOW + 3000],
  ['exactly MinLSInterval after the last: now', { lastOriginated: NOW - 5000 }, NOW],
  ['long after the last: now', { lastOriginated: NOW - 60_000 }, NOW],
  [
    'forced 0.4 s after the last: MinLSArrival, 0.6 s more',
    { lastOriginated: NOW - 400, force: true },
    NOW + 600,
  ],
  [
    'forced 2 s after the last: now (MinLSInterval does not apply)',
    { lastOriginated: NOW - 2000, force: true },
    NOW,
  ],
  [
    'last went to nobody, exchange started 0.5 s ago: MinLSArrival + 250 ms from the exchange',
    { lastOriginated: NOW - 3000, unflooded: true, lastExchangeStart: NOW - 500 },
    NOW + 750,
  ],
  [
    'last went to nobody, exchange long before it: MinLSArrival + 250 ms from the last',
    { lastOriginated: NOW - 1000, unflooded: true, lastExchangeStart: NOW - 30_000 },
    NOW + 250,
  ],
  [
    'last went to nobody 2 s ago, no exchange since: now (not held to MinLSInterval)',
    { lastOriginated: NOW - 2000, unflooded: true, lastExchangeStart: NOW - 30_000 },
    NOW,
  ],
  [
    'last went to nobody, forced: the same 1.25 s from the exchange',
    { lastOriginated: NOW - 3000, unflooded: true, lastExchangeStart: NOW - 1000, force: true },
    NOW + 250,
  ],
  ['fight-back 0.1 s after the last: at once', { lastOriginated: NOW - 100, fightBack: true }, NOW],
  [
    'fight-back while the last went to nobody: at once',
    { lastOriginated: NOW - 100, unflooded: true, lastExchangeStart: NOW - 50, fightBack: true },
    NOW,
  ],
];

t.test('nextOriginationAt', async (t) => {
  for (const [what, times, want] of rows) {
    t.equal(nextOriginationAt({ ...base, ...times }), want, what);
  }
});

t.test('never before now, whatever the inputs', async (t) => {
  for (const [, times] of rows) {
    for (const now of [0, 1, NOW, NOW * 10]) {
      t.ok(nextOriginationAt({ ...base, ...times, now }) >= now);
    }
  }
});
