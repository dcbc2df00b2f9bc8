import t from 'tap';
import { MAX_AGE } from '../../src/ospf/constants.js';
import { type Candidate, electDr } from '../../src/ospf/election.js';
import type { LsaHeader } from '../../src/ospf/lsa/header.js';
import { compareLsaInstances } from '../../src/ospf/lsdb.js';

const c = (rid: string, priority: number, dr = '0.0.0.0', bdr = '0.0.0.0'): Candidate => ({
  routerId: rid,
  address: rid,
  priority,
  dr,
  bdr,
});

t.test('RFC 2328 9.4 DR election', async (t) => {
  // Nobody declared yet, we are eligible: we become BDR, then DR (step 3 promotes the BDR), and
  // step 4 reruns because our role changed, electing a new BDR.
  const eligible = c('10.0.0.9', 1);
  t.same(electDr(eligible, [eligible, c('10.0.0.1', 1), c('10.0.0.2', 1)]), {
    dr: '10.0.0.9',
    bdr: '10.0.0.2',
  });
  // An ineligible observer (priority 0) does not rerun step 4: until the others' Hellos declare
  // roles it sees the promoted BDR as DR too (RFC 2328 9.4 (3)).
  const self = c('10.0.0.8', 0);
  t.same(electDr(self, [self, c('10.0.0.1', 1), c('10.0.0.2', 1)]), { dr: '10.0.0.2', bdr: '10.0.0.2' });
  // An existing DR is kept even if a higher priority router appears (no preemption).
  const r = electDr(self, [
    self,
    c('10.0.0.1', 1, '10.0.0.1', '10.0.0.2'),
    c('10.0.0.2', 1, '10.0.0.1', '10.0.0.2'),
    c('10.0.0.3', 200),
  ]);
  t.same(r, { dr: '10.0.0.1', bdr: '10.0.0.2' });
  // Priority 0 never wins, ours included.
  t.same(electDr(self, [self]), { dr: '0.0.0.0', bdr: '0.0.0.0' });
  t.same(electDr(self, [self, c('10.0.0.5', 0)]), { dr: '0.0.0.0', bdr: '0.0.0.0' });
  // Eligible self alone: becomes BDR, then DR; rerun keeps self DR and no BDR.
  const me = c('10.0.0.7', 1);
  t.same(electDr(me, [me]), { dr: '10.0.0.7', bdr: '0.0.0.0' });
  // Ties on priority go to the higher router ID.
  const s2 = c('10.0.0.9', 0);
  t.same(
    electDr(s2, [s2, c('10.0.0.4', 5, '0.0.0.0', '10.0.0.4'), c('10.0.0.3', 5, '0.0.0.0', '10.0.0.3')]),
    {
      dr: '10.0.0.4',
      bdr: '10.0.0.4',
    },
  );
  t.same(
    electDr(s2, [s2, c('10.0.0.4', 5, '10.0.0.4', '10.0.0.3'), c('10.0.0.3', 5, '10.0.0.4', '10.0.0.3')]),
    { dr: '10.0.0.4', bdr: '10.0.0.3' },
  );
});

t.test('RFC 2328 13.1 which instance is newer', async (t) => {
  const h = (o: Partial<LsaHeader>): LsaHeader => ({
    age: 10,
    options: 2,
    type: 1,
    id: '1.1.1.1',
    advRouter: '1.1.1.1',
    seq: -0x7fffffff,
    checksum: 0x1000,
    length: 36,
    ...o,
  });
  t.equal(compareLsaInstances(h({ seq: -0x7ffffffe }), h({})), 1, 'higher sequence');
  t.equal(compareLsaInstances(h({ seq: 5 }), h({ seq: -5 })), 1, 'signed sequence comparison');
  t.equal(compareLsaInstances(h({ checksum: 0x2000 }), h({})), 1, 'larger checksum');
  t.equal(compareLsaInstances(h({ age: MAX_AGE }), h({})), 1, 'MaxAge wins');
  t.equal(compareLsaInstances(h({ age: 1000 }), h({ age: 10 })), -1, 'much older loses');
  t.equal(compareLsaInstances(h({ age: 800 }), h({ age: 10 })), 0, 'within MaxAgeDiff: same');
});
