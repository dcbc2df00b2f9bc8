/**
 * The UPDATE send queue of one BGP connection (RFC 4271 4.3 messages, RFC 4271 9.2 "UPDATE-Send
 * Process"): UPDATEs are queued unencoded and written in slices of PUMP_SLICE, each slice a
 * separate event of the session, and writing stops on socket back-pressure until the socket
 * drains. KEEPALIVEs and NOTIFICATIONs never wait here: the session writes them at once, so the
 * hold timer of the peer (RFC 4271 4.4) is served even during a full-table dump.
 *
 * The pump knows no socket and no FSM state: each slice is handed a sink, or undefined when the
 * connection is not Established (the queue then waits for the next push).
 */
import type { UpdateMessage } from './message/index.js';

/** UPDATEs written per slice before the event loop gets a turn (timers, other peers). */
export const PUMP_SLICE = 64;

export interface UpdateSink {
  /** Encodes and writes one UPDATE; false when the socket buffer is full (wait for `resume`). */
  write(update: UpdateMessage): boolean;
}

export class UpdatePump {
  private queue: UpdateMessage[] = [];
  private head = 0;
  private scheduled = false;
  private waitingDrain = false;

  /**
   * `schedule` asks for one `run` later (the session posts a pump event after a setImmediate);
   * `onEmpty` is called each time the queue has been written out.
   */
  constructor(
    private readonly schedule: () => void,
    private readonly onEmpty: () => void,
  ) {}

  /** UPDATEs waiting to be written. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  push(updates: readonly UpdateMessage[]): void {
    for (const u of updates) this.queue.push(u);
    this.kick();
  }

  /** The socket drained after a write returned false. */
  resume(): void {
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    this.kick();
  }

  /** RFC 4271 8.2.2 "releases all BGP resources": forget what was not sent. */
  clear(): void {
    this.queue = [];
    this.head = 0;
  }

  /** Writes one slice to `sink`, then asks for the next run unless the socket is full. */
  run(sink: UpdateSink | undefined): void {
    this.scheduled = false;
    if (!sink) return;
    for (let n = 0; n < PUMP_SLICE && this.head < this.queue.length; n++) {
      if (!sink.write(this.queue[this.head++]!)) {
        this.waitingDrain = true;
        break;
      }
    }
    if (this.head >= this.queue.length) {
      this.clear();
      this.onEmpty();
      return;
    }
    this.kick();
  }

  private kick(): void {
    if (this.scheduled || this.waitingDrain) return;
    this.scheduled = true;
    this.schedule();
  }
}
