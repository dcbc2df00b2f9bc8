/**
 * The RFC 5881 5 TTL check ("received packets with TTL/Hop Limit other than 255 MUST be
 * discarded") as a classic BPF socket filter, so the kernel enforces it for each packet before
 * it is queued on the socket. Node's dgram cannot read a received TTL, and the kernel does not
 * apply IP_MINTTL / IPV6_MINHOPCOUNT to UDP sockets (checked on this platform: packets with TTL 254
 * and 1 were delivered with IP_MINTTL 255 set), so the check is done here.
 *
 * A UDP socket filter sees the packet at the UDP header; SKF_NET_OFF reaches back into the IP
 * header (TTL at byte 8 of IPv4, Hop Limit at byte 7 of IPv6). Dropping silently would leave the
 * daemon unable to count what RFC 5881 made it discard, so a packet with a wrong TTL is not dropped
 * but trimmed to its UDP header: it arrives as an empty datagram from its real source, which the
 * socket reports as a TTL drop. A genuine empty datagram with TTL 255 (never BFD) is dropped in the
 * kernel so the empty marker is unambiguous.
 *
 *   ldb  [net + ttl]        ; TTL / Hop Limit
 *   jeq  #255, ok, marked
 *   ok:  ld len             ; UDP header + payload
 *        jgt #8, keep, drop
 *   keep:   ret #0xffffffff ; whole packet
 *   marked: ret #8          ; UDP header only: an empty datagram
 *   drop:   ret #0
 */

/** linux/filter.h: SKF_NET_OFF, the negative offset that addresses the network header. */
const SKF_NET_OFF = -0x100000;
const BPF_LD_B_ABS = 0x30;
const BPF_LD_W_LEN = 0x80;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGT_K = 0x25;
const BPF_RET_K = 0x06;
const UDP_HEADER_LEN = 8;

/** One `struct sock_filter` (8 bytes, host byte order: x86-64 and arm64 are little-endian). */
function insn(code: number, jt: number, jf: number, k: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b[2] = jt;
  b[3] = jf;
  b.writeUInt32LE(k >>> 0, 4);
  return b;
}

/** The filter program (an array of `struct sock_filter`) for an IPv4 or IPv6 socket. */
export function ttlFilterProgram(family: 4 | 6, ttl = 255): { program: Buffer; length: number } {
  const ttlOffset = family === 4 ? 8 : 7;
  const code = [
    insn(BPF_LD_B_ABS, 0, 0, SKF_NET_OFF + ttlOffset),
    insn(BPF_JMP_JEQ_K, 0, 3, ttl),
    insn(BPF_LD_W_LEN, 0, 0, 0),
    insn(BPF_JMP_JGT_K, 0, 2, UDP_HEADER_LEN),
    insn(BPF_RET_K, 0, 0, 0xffffffff),
    insn(BPF_RET_K, 0, 0, UDP_HEADER_LEN),
    insn(BPF_RET_K, 0, 0, 0),
  ];
  return { program: Buffer.concat(code), length: code.length };
}

/** `struct sock_fprog` for SO_ATTACH_FILTER: u16 length, padding, pointer to the program (64-bit). */
export function sockFprog(length: number, programAddress: bigint): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(length, 0);
  b.writeBigUInt64LE(programAddress, 8);
  return b;
}
