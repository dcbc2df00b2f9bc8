/**
 * Processing of a BGP session's events (`session-events.ts`), one function per event kind: each
 * finds the event's attempt (or drops the event as stale), turns it into the RFC 4271 8.1 event for
 * that attempt's FSM and steps it (`SessionCore.step`). The receive side lives here too: OPEN
 * validation (RFC 4271 6.2, `negotiate.ts`) and collision detection (RFC 4271 6.8), UPDATE and
 * ROUTE-REFRESH delivery in Established (RFC 4271 9, RFC 2918), NOTIFICATIONs (RFC 4271 6.4),
 * decode errors answered with their NOTIFICATION (RFC 4271 6.1-6.3).
 */
import type { Attempt } from './attempt.js';
import { collisionLoser } from './collision.js';
import type { FsmEvent, NotificationSpec, TimerName } from './fsm.js';
import {
  BgpDecodeError,
  describeNotification,
  type Message,
  type NotificationMessage,
  type OpenMessage,
} from './message/index.js';
import { ErrorCode } from './message/types.js';
import { checkOpen } from './negotiate.js';
import { SEND_HOLD_TIMER_EXPIRED } from './send-hold.js';
import type { SessionCore } from './session-core.js';
import { MESSAGE_KIND } from './session-counters.js';
import type { Posted, SessionWideEvent } from './session-events.js';
import { peerSecurity } from './socket-options.js';
import { type BgpSocket, describeConnectTimeout, describeSocketError } from './transport.js';

const TIMER_EVENT: Record<TimerName, FsmEvent> = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
};

export function processEvent(s: SessionCore, p: Posted): void {
  if (p.attempt === null) {
    const e = p.event;
    switch (e.type) {
      case 'start':
        processStart(s);
        return;
      case 'stop':
        processStop(s, e);
        return;
      case 'abort':
        processAbort(s);
        return;
      case 'automaticStop':
        processAutomaticStop(s, e.notification, e.reason, e.penalty);
        return;
      case 'accepted':
        processAccepted(s, e.socket);
        return;
    }
  }
  const a = s.attempt(p.attempt);
  const e = p.event;
  if (!a || ('from' in e && e.from !== a.socket)) {
    dropStale(s, p);
    return;
  }
  switch (e.type) {
    case 'idleHoldExpired':
      processIdleHold(s, a);
      return;
    case 'connected':
      processConnected(s, a, e.socket);
      return;
    case 'connectFailed':
      processConnectFailed(s, a, e.error);
      return;
    case 'message':
      processMessage(s, a, e.message);
      return;
    case 'malformed':
      processMalformed(s, a, e.error);
      return;
    case 'closed':
      processClosed(s, a, e.error);
      return;
    case 'writable':
      s.sendHold(a).progressed();
      a.pump.resume();
      return;
    case 'sendHoldExpired':
      processSendHoldExpired(s, a);
      return;
    case 'pump':
      a.pump.run(s.sink(a));
      return;
    case 'timer':
      if (e.timer === 'connectRetry' && a.state === 'Connect' && a.pendingConnect) {
        // RFC 4271 8.2.2: the attempt got no answer within ConnectRetryTime; say so in status.
        const ms = s.peer.connectRetryTime * 1000;
        s.lastError = `connect: ${describeConnectTimeout(s.peer.address, s.peer.port, ms, peerSecurity(s.peer))}`;
      }
      s.step(a, TIMER_EVENT[e.timer]);
      return;
    case 'collisionDump':
      s.step(a, { type: 'OpenCollisionDump' });
      return;
    case 'reset': {
      const notification = { code: ErrorCode.Cease, subcode: 0 };
      s.step(a, { type: 'AutomaticStop', notification }, { detail: e.reason });
      return;
    }
  }
}

/** An exception while processing (a bug): logged, and the session resets instead of dying. */
export function processingFailed(s: SessionCore, err: unknown, p: Posted): void {
  const reason = `internal error: ${err instanceof Error ? err.message : String(err)}`;
  s.log.error({ err, event: p.event.type }, 'internal error in BGP session');
  s.lastError = reason;
  if (p.event.type === 'reset') {
    s.log.error({ err }, 'BGP session could not reset after an internal error');
    return;
  }
  for (const a of [s.second, s.main]) {
    if (a && a.state !== 'Idle') s.post({ attempt: a.id, event: { type: 'reset', reason } });
  }
}

/** The event's connection is gone (closed, replaced, superseded): nothing to do but count it. */
function dropStale(s: SessionCore, p: Posted): void {
  s.counters.staleEvents++;
  s.log.debug({ attempt: p.attempt, event: p.event.type }, 'stale BGP event dropped');
  if (p.event.type === 'connected') p.event.socket.destroy();
}

// ===== the speaker =====

function processStart(s: SessionCore): void {
  if (s.running) return;
  s.running = true;
  s.step(s.main, { type: s.peer.passive ? 'ManualStartPassive' : 'ManualStart' });
}

function processStop(s: SessionCore, e: Extract<SessionWideEvent, { type: 'stop' }>): void {
  s.running = false;
  s.idleHold.stop();
  if (!e.flushed && e.notification && s.main.state === 'Established' && s.main.pump.queued > 0) {
    // Drain: the withdrawals queued before the stop go out before the Cease.
    s.flushWaiters.push(() => s.post({ attempt: null, event: { ...e, flushed: true } }));
    return;
  }
  s.noteEnd(s.main, { kind: 'stopped' });
  for (const a of [s.second, s.main]) {
    if (a) s.step(a, { type: 'ManualStop', notification: e.notification });
  }
  e.done();
}

function processAbort(s: SessionCore): void {
  s.running = false;
  s.idleHold.stop();
  s.releaseFlushWaiters();
  s.noteEnd(s.main, { kind: 'stopped' });
  for (const a of [s.second, s.main]) {
    if (!a) continue;
    const sock = a.socket;
    s.step(a, { type: 'ManualStop', notification: null });
    sock?.destroy();
  }
}

/**
 * RFC 9687 4.3 (Event 29, SendHoldTimer_Expires): the session goes down with NOTIFICATION Send
 * Hold Timer Expired, code 8 subcode 0 (as Event 8 AutomaticStop with that NOTIFICATION: the FSM's
 * teardown, then a reconnect after back-off), and the connection is dropped at once: the bytes
 * waiting in its buffer (this NOTIFICATION too, most likely) cannot go to a peer that does not read.
 */
function processSendHoldExpired(s: SessionCore, a: Attempt): void {
  const sock = a.socket;
  const secs = s.sendHold(a).armedMs / 1000;
  s.counters.sendHoldExpired++;
  const detail = `the peer read nothing we sent for ${secs} s`;
  s.log.warn({ peer: s.peer.address, seconds: secs }, 'BGP send hold timer expired (RFC 9687)');
  s.step(
    a,
    { type: 'AutomaticStop', notification: { code: SEND_HOLD_TIMER_EXPIRED, subcode: 0 } },
    { detail },
  );
  sock?.destroy();
}

function processAutomaticStop(s: SessionCore, n: NotificationSpec, reason: string, penalty: boolean): void {
  if (penalty) s.backoff.penalize();
  s.step(s.main, { type: 'AutomaticStop', notification: n }, { detail: reason });
}

function processAccepted(s: SessionCore, sock: BgpSocket): void {
  const m = s.main;
  if (!s.running || m.state === 'Idle') {
    // RFC 4271 8.2.2 Idle: "refuses all incoming BGP connections".
    s.log.debug({ state: m.state }, 'refusing connection while idle');
    sock.destroy();
    return;
  }
  if (m.state === 'Connect' || m.state === 'Active') {
    // Our own attempt has not produced a session yet: use the peer's connection instead.
    m.pendingConnect?.cancel();
    m.pendingConnect = undefined;
    s.closeSocket(m);
    m.inbound = true;
    m.attach(sock);
    s.step(m, { type: 'TcpConnectionConfirmed' });
    return;
  }
  if (s.second) {
    sock.destroy();
    return;
  }
  // RFC 4271 6.8: a second connection runs its own FSM until an OPEN decides the collision.
  const a = s.newAttempt(true);
  a.fsm = { ...a.fsm, state: 'Active' };
  s.second = a;
  a.attach(sock);
  s.step(a, { type: 'TcpConnectionConfirmed' });
}

// ===== connections =====

function processIdleHold(s: SessionCore, a: Attempt): void {
  if (!s.running || a !== s.main || a.state !== 'Idle') return;
  s.main = s.newAttempt(false);
  s.step(s.main, { type: s.peer.passive ? 'AutomaticStartPassive' : 'AutomaticStart' });
}

function processConnected(s: SessionCore, a: Attempt, sock: BgpSocket): void {
  a.pendingConnect = undefined;
  if (a !== s.main || a.state !== 'Connect' || a.socket) {
    // Superseded by a stop, an inbound connection or a retry.
    dropStale(s, { attempt: a.id, event: { type: 'connected', socket: sock } });
    return;
  }
  a.attach(sock);
  s.step(a, { type: 'TcpCrAcked' });
}

function processConnectFailed(s: SessionCore, a: Attempt, error: Error): void {
  a.pendingConnect = undefined;
  if (a !== s.main || a.state !== 'Connect') {
    dropStale(s, { attempt: a.id, event: { type: 'connectFailed', error } });
    return;
  }
  s.lastError = describeSocketError(error, 'connect');
  s.step(a, { type: 'TcpConnectionFails' });
}

function processClosed(s: SessionCore, a: Attempt, error: Error | undefined): void {
  a.socket = undefined;
  if (a.state === 'Idle') return;
  if (a === s.main || a.state === 'Established') {
    s.lastError = error ? describeSocketError(error, 'connection') : 'peer closed the connection';
  }
  s.step(a, { type: 'TcpConnectionFails' });
}

// ===== receive =====

function processMalformed(s: SessionCore, a: Attempt, error: unknown): void {
  if (!(error instanceof BgpDecodeError)) throw error;
  s.counters.malformed++;
  const type =
    error.code === ErrorCode.MessageHeader
      ? 'BGPHeaderErr'
      : error.code === ErrorCode.OpenMessage
        ? 'BGPOpenMsgErr'
        : 'UpdateMsgErr';
  s.log.warn({ code: error.code, subcode: error.subcode, reason: error.message }, 'malformed BGP message');
  const notification: NotificationSpec = { code: error.code, subcode: error.subcode, data: error.data };
  s.step(a, { type, notification }, { detail: error.message });
}

function processMessage(s: SessionCore, a: Attempt, m: Message): void {
  s.counters.messagesIn[MESSAGE_KIND[m.type]]++;
  switch (m.type) {
    case 1:
      processOpen(s, a, m);
      return;
    case 2:
      s.counters.updatesReceived++;
      if (m.errors?.some((e) => e.action === 'treat-as-withdraw')) s.counters.treatAsWithdraw++;
      s.step(a, { type: 'UpdateMsg' }, { deliver: () => s.hooks.update(m) });
      return;
    case 3:
      processNotification(s, a, m);
      return;
    case 4:
      s.step(a, { type: 'KeepAliveMsg' });
      return;
    case 5:
      s.step(a, { type: 'RouteRefreshMsg' }, { deliver: () => s.hooks.routeRefresh(m.afi, m.safi) });
      return;
  }
}

function processNotification(s: SessionCore, a: Attempt, m: NotificationMessage): void {
  s.counters.notificationsIn++;
  const text = m.shutdownMessage ? `: "${m.shutdownMessage}"` : '';
  s.lastError = `peer sent NOTIFICATION ${describeNotification(m.code, m.subcode)}${text}`;
  s.log.warn({ code: m.code, subcode: m.subcode, text: m.shutdownMessage }, s.lastError);
  s.noteEnd(a, { kind: 'notification', direction: 'received', code: m.code, subcode: m.subcode });
  const verErr = m.code === ErrorCode.OpenMessage && m.subcode === 1;
  s.step(a, { type: verErr ? 'NotifMsgVerErr' : 'NotifMsg' });
}

function processOpen(s: SessionCore, a: Attempt, open: OpenMessage): void {
  if (a.state !== 'OpenSent') {
    s.step(a, { type: 'BGPOpen' }); // unexpected: the FSM answers with an FSM Error
    return;
  }
  const check = checkOpen(s.local, s.peer.asn, open);
  if (!check.ok) {
    s.step(a, { type: 'BGPOpenMsgErr', notification: check.notification }, { detail: check.reason });
    return;
  }
  a.peerOpen = open;
  a.negotiated = check.negotiated;
  a.ctx = { fourOctetAs: check.negotiated.fourOctetAs };
  // RFC 4271 6.8 collision detection against the other connection to this peer.
  const other = a === s.main ? s.second : s.main;
  if (other && (other.state === 'OpenConfirm' || other.state === 'Established')) {
    const peerId = check.negotiated.peerId;
    const loser = collisionLoser(a, other, s.local.routerId, peerId);
    s.log.info({ kept: loser === a ? other.id : a.id, closed: loser.id, peerId }, 'BGP connection collision');
    s.step(loser, { type: 'OpenCollisionDump' });
    if (loser === a) return;
  }
  s.step(a, { type: 'BGPOpen' });
}
