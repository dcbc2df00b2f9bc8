/** The RFC 5880 6.8.6 state table, every (state, input) pair. */
import t from 'tap';
import { BfdDiag, BfdState } from '../../src/bfd/constants.js';
import { fsmStep } from '../../src/bfd/fsm.js';

const { AdminDown, Down, Init, Up } = BfdState;
const N = BfdDiag.None;
const NSD = BfdDiag.NeighborSignaledSessionDown;

t.test('received State per local state', async (t) => {
  // [local, remote, expected state or null for no change, diag]
  const table: [BfdState, BfdState, BfdState | null, BfdDiag][] = [
    [AdminDown, AdminDown, null, N],
    [AdminDown, Down, null, N],
    [AdminDown, Init, null, N],
    [AdminDown, Up, null, N],
    [Down, AdminDown, null, N],
    [Down, Down, Init, N],
    [Down, Init, Up, N],
    [Down, Up, null, N],
    [Init, AdminDown, Down, NSD],
    [Init, Down, null, N],
    [Init, Init, Up, N],
    [Init, Up, Up, N],
    [Up, AdminDown, Down, NSD],
    [Up, Down, Down, NSD],
    [Up, Init, null, N],
    [Up, Up, null, N],
  ];
  for (const [local, remote, want, diag] of table) {
    const got = fsmStep(local, { kind: 'rx', remoteState: remote });
    const name = `${BfdState[local]} + rx ${BfdState[remote]}`;
    if (want === null) t.equal(got, undefined, `${name}: no change`);
    else t.same(got, { state: want, diag }, `${name} -> ${BfdState[want]}`);
  }
});

t.test('detection timer, admin down and up', async (t) => {
  const expired = BfdDiag.ControlDetectionTimeExpired;
  t.same(fsmStep(Up, { kind: 'detect-expired' }), { state: Down, diag: expired });
  t.same(fsmStep(Init, { kind: 'detect-expired' }), { state: Down, diag: expired });
  t.equal(fsmStep(Down, { kind: 'detect-expired' }), undefined);
  t.equal(fsmStep(AdminDown, { kind: 'detect-expired' }), undefined);
  for (const s of [Down, Init, Up]) {
    t.same(fsmStep(s, { kind: 'admin-down', diag: BfdDiag.PathDown }), {
      state: AdminDown,
      diag: BfdDiag.PathDown,
    });
  }
  t.equal(fsmStep(AdminDown, { kind: 'admin-down', diag: BfdDiag.AdministrativelyDown }), undefined);
  t.same(fsmStep(AdminDown, { kind: 'admin-up' }), { state: Down, diag: N });
  t.equal(fsmStep(Up, { kind: 'admin-up' }), undefined);
});
