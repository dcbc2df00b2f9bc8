import t from 'tap';
import {
  type BgpState,
  type FsmAction,
  type FsmEvent,
  type FsmSnapshot,
  fsmStep,
  initialFsm,
} from '../../src/bgp/fsm.js';

const at = (state: BgpState, connectRetryCounter = 0): FsmSnapshot => ({ state, connectRetryCounter });
const kinds = (actions: readonly FsmAction[]): string[] =>
  actions.map((a) =>
    a.kind === 'startTimer' || a.kind === 'stopTimer'
      ? `${a.kind}:${a.timer}${a.kind === 'startTimer' && a.large ? ':large' : ''}`
      : a.kind === 'sendNotification'
        ? `notify:${a.notification.code}/${a.notification.subcode}`
        : a.kind,
  );
const updErr: FsmEvent = { type: 'UpdateMsgErr', notification: { code: 3, subcode: 1 } };
const openErr: FsmEvent = { type: 'BGPOpenMsgErr', notification: { code: 2, subcode: 2 } };
const cease2: FsmEvent = { type: 'ManualStop', notification: { code: 6, subcode: 2 } };
const IDLE_TAIL = [
  'stopTimer:connectRetry',
  'stopTimer:hold',
  'stopTimer:keepalive',
  'releaseResources',
  'close',
];

// [from, event, to, actions (kinds), counter after (from counter 1)]
const table: [BgpState, FsmEvent, BgpState, string[], number][] = [
  ['Idle', { type: 'ManualStart' }, 'Connect', ['startTimer:connectRetry', 'connect'], 0],
  ['Idle', { type: 'AutomaticStart' }, 'Connect', ['startTimer:connectRetry', 'connect'], 0],
  ['Idle', { type: 'ManualStartPassive' }, 'Active', [], 0],
  ['Idle', { type: 'KeepAliveMsg' }, 'Idle', [], 1],
  ['Idle', { type: 'TcpConnectionConfirmed' }, 'Idle', [], 1],
  [
    'Connect',
    { type: 'ConnectRetryTimerExpires' },
    'Connect',
    ['close', 'startTimer:connectRetry', 'connect'],
    1,
  ],
  [
    'Connect',
    { type: 'TcpCrAcked' },
    'OpenSent',
    ['stopTimer:connectRetry', 'sendOpen', 'startTimer:hold:large'],
    1,
  ],
  ['Connect', { type: 'TcpConnectionFails' }, 'Idle', IDLE_TAIL, 1],
  ['Connect', cease2, 'Idle', IDLE_TAIL, 0],
  ['Connect', { type: 'HoldTimerExpires' }, 'Idle', IDLE_TAIL, 2],
  ['Active', { type: 'ConnectRetryTimerExpires' }, 'Connect', ['startTimer:connectRetry', 'connect'], 1],
  [
    'Active',
    { type: 'TcpConnectionConfirmed' },
    'OpenSent',
    ['stopTimer:connectRetry', 'sendOpen', 'startTimer:hold:large'],
    1,
  ],
  ['Active', { type: 'TcpConnectionFails' }, 'Idle', IDLE_TAIL, 2],
  [
    'OpenSent',
    { type: 'BGPOpen' },
    'OpenConfirm',
    ['stopTimer:connectRetry', 'sendKeepalive', 'startTimer:keepalive', 'startTimer:hold'],
    1,
  ],
  ['OpenSent', { type: 'HoldTimerExpires' }, 'Idle', ['notify:4/0', ...IDLE_TAIL], 2],
  ['OpenSent', openErr, 'Idle', ['notify:2/2', ...IDLE_TAIL], 2],
  ['OpenSent', { type: 'OpenCollisionDump' }, 'Idle', ['notify:6/7', ...IDLE_TAIL], 2],
  [
    'OpenSent',
    { type: 'TcpConnectionFails' },
    'Active',
    ['close', 'stopTimer:hold', 'startTimer:connectRetry'],
    1,
  ],
  ['OpenSent', { type: 'KeepAliveMsg' }, 'Idle', ['notify:5/1', ...IDLE_TAIL], 2],
  ['OpenSent', { type: 'NotifMsg' }, 'Idle', IDLE_TAIL, 2],
  ['OpenSent', cease2, 'Idle', ['notify:6/2', ...IDLE_TAIL], 0],
  ['OpenSent', { type: 'ManualStop', notification: null }, 'Idle', IDLE_TAIL, 0],
  ['OpenConfirm', { type: 'KeepAliveMsg' }, 'Established', ['startTimer:hold'], 1],
  [
    'OpenConfirm',
    { type: 'KeepaliveTimerExpires' },
    'OpenConfirm',
    ['sendKeepalive', 'startTimer:keepalive'],
    1,
  ],
  ['OpenConfirm', { type: 'HoldTimerExpires' }, 'Idle', ['notify:4/0', ...IDLE_TAIL], 2],
  ['OpenConfirm', { type: 'UpdateMsg' }, 'Idle', ['notify:5/2', ...IDLE_TAIL], 2],
  ['OpenConfirm', { type: 'OpenCollisionDump' }, 'Idle', ['notify:6/7', ...IDLE_TAIL], 2],
  ['OpenConfirm', { type: 'NotifMsg' }, 'Idle', IDLE_TAIL, 2],
  ['Established', { type: 'KeepAliveMsg' }, 'Established', ['startTimer:hold'], 1],
  ['Established', { type: 'UpdateMsg' }, 'Established', ['processUpdate', 'startTimer:hold'], 1],
  ['Established', { type: 'RouteRefreshMsg' }, 'Established', ['processRouteRefresh', 'startTimer:hold'], 1],
  [
    'Established',
    { type: 'KeepaliveTimerExpires' },
    'Established',
    ['sendKeepalive', 'startTimer:keepalive'],
    1,
  ],
  ['Established', { type: 'HoldTimerExpires' }, 'Idle', ['notify:4/0', ...IDLE_TAIL], 2],
  ['Established', updErr, 'Idle', ['notify:3/1', ...IDLE_TAIL], 2],
  ['Established', { type: 'BGPOpen' }, 'Idle', ['notify:5/3', ...IDLE_TAIL], 2],
  ['Established', { type: 'TcpConnectionFails' }, 'Idle', IDLE_TAIL, 2],
  ['Established', { type: 'NotifMsg' }, 'Idle', IDLE_TAIL, 2],
  [
    'Established',
    { type: 'AutomaticStop', notification: { code: 6, subcode: 1 } },
    'Idle',
    ['notify:6/1', ...IDLE_TAIL],
    2,
  ],
  ['Established', cease2, 'Idle', ['notify:6/2', ...IDLE_TAIL], 0],
  ['Established', { type: 'ManualStop', notification: null }, 'Idle', IDLE_TAIL, 0],
];

t.test('RFC 4271 8.2.2 transitions', async (t) => {
  for (const [from, event, to, actions, counter] of table) {
    const r = fsmStep(at(from, 1), event);
    t.same(
      { state: r.next.state, actions: kinds(r.actions), counter: r.next.connectRetryCounter },
      { state: to, actions, counter },
      `${from} + ${event.type}`,
    );
  }
});

t.test('the notification data and RFC 9003 text pass through unchanged', async (t) => {
  const n = { code: 6, subcode: 2, shutdownMessage: 'draining node1' };
  const r = fsmStep(at('Established'), { type: 'ManualStop', notification: n });
  const sent = r.actions.find((a) => a.kind === 'sendNotification');
  t.same(sent, { kind: 'sendNotification', notification: n });
});

t.test('every state survives every event without throwing', async (t) => {
  const events: FsmEvent[] = [
    { type: 'ManualStart' },
    { type: 'AutomaticStart' },
    { type: 'ManualStartPassive' },
    { type: 'AutomaticStartPassive' },
    cease2,
    { type: 'AutomaticStop', notification: { code: 6, subcode: 1 } },
    { type: 'ConnectRetryTimerExpires' },
    { type: 'HoldTimerExpires' },
    { type: 'KeepaliveTimerExpires' },
    { type: 'TcpCrAcked' },
    { type: 'TcpConnectionConfirmed' },
    { type: 'TcpConnectionFails' },
    { type: 'BGPOpen' },
    { type: 'BGPHeaderErr', notification: { code: 1, subcode: 2 } },
    openErr,
    { type: 'OpenCollisionDump' },
    { type: 'NotifMsgVerErr' },
    { type: 'NotifMsg' },
    { type: 'KeepAliveMsg' },
    { type: 'UpdateMsg' },
    updErr,
    { type: 'RouteRefreshMsg' },
  ];
  const states: BgpState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];
  for (const s of states) {
    for (const e of events) {
      const r = fsmStep(at(s), e);
      // Leaving a session state always closes the connection.
      if (r.next.state === 'Idle' && s !== 'Idle')
        t.ok(
          r.actions.some((a) => a.kind === 'close'),
          `${s}+${e.type}`,
        );
    }
  }
  t.equal(initialFsm.state, 'Idle');
});
