/**
 * NOTIFICATION error codes and subcodes in words, as the RFCs name them: RFC 4271 6 (+ errata 4493
 * "Unspecific"), RFC 5492 5, RFC 4486 (Cease), RFC 8538 (Hard Reset), RFC 6608 (FSM), RFC 7313 5
 * (ROUTE-REFRESH), RFC 9234 (Role Mismatch), RFC 9384 (BFD Down), RFC 9687 (Send Hold Timer).
 */

interface CodeNames {
  readonly name: string;
  /** Whether subcode 0 is unremarkable (the code has no subcodes, or 0 is "Reserved"). */
  readonly bareZero: boolean;
  readonly subcodes: Readonly<Record<number, string>>;
}

const NAMES: Readonly<Record<number, CodeNames>> = {
  1: {
    name: 'Message Header Error',
    bareZero: false,
    subcodes: {
      0: 'Unspecific',
      1: 'Connection Not Synchronized',
      2: 'Bad Message Length',
      3: 'Bad Message Type',
    },
  },
  2: {
    name: 'OPEN Message Error',
    bareZero: false,
    subcodes: {
      0: 'Unspecific',
      1: 'Unsupported Version Number',
      2: 'Bad Peer AS',
      3: 'Bad BGP Identifier',
      4: 'Unsupported Optional Parameter',
      5: 'Authentication Failure (deprecated)',
      6: 'Unacceptable Hold Time',
      7: 'Unsupported Capability',
      8: 'Deprecated',
      9: 'Deprecated',
      10: 'Deprecated',
      11: 'Role Mismatch',
    },
  },
  3: {
    name: 'UPDATE Message Error',
    bareZero: false,
    subcodes: {
      0: 'Unspecific',
      1: 'Malformed Attribute List',
      2: 'Unrecognized Well-known Attribute',
      3: 'Missing Well-known Attribute',
      4: 'Attribute Flags Error',
      5: 'Attribute Length Error',
      6: 'Invalid ORIGIN Attribute',
      7: 'AS Routing Loop (deprecated)',
      8: 'Invalid NEXT_HOP Attribute',
      9: 'Optional Attribute Error',
      10: 'Invalid Network Field',
      11: 'Malformed AS_PATH',
    },
  },
  4: { name: 'Hold Timer Expired', bareZero: true, subcodes: {} },
  5: {
    name: 'Finite State Machine Error',
    bareZero: false,
    subcodes: {
      0: 'Unspecified Error',
      1: 'Receive Unexpected Message in OpenSent State',
      2: 'Receive Unexpected Message in OpenConfirm State',
      3: 'Receive Unexpected Message in Established State',
    },
  },
  6: {
    name: 'Cease',
    bareZero: true,
    subcodes: {
      1: 'Maximum Number of Prefixes Reached',
      2: 'Administrative Shutdown',
      3: 'Peer De-configured',
      4: 'Administrative Reset',
      5: 'Connection Rejected',
      6: 'Other Configuration Change',
      7: 'Connection Collision Resolution',
      8: 'Out of Resources',
      9: 'Hard Reset',
      10: 'BFD Down',
    },
  },
  7: { name: 'ROUTE-REFRESH Message Error', bareZero: true, subcodes: { 1: 'Invalid Message Length' } },
  8: { name: 'Send Hold Timer Expired', bareZero: true, subcodes: {} },
};

/** E.g. "OPEN Message Error / Bad Peer AS", "Cease / Administrative Shutdown", "Hold Timer Expired". */
export function describeNotification(code: number, subcode: number): string {
  const names = NAMES[code];
  if (names === undefined) return `Unknown error code ${code} / subcode ${subcode}`;
  const sub = names.subcodes[subcode];
  if (sub !== undefined) return `${names.name} / ${sub}`;
  if (subcode === 0 && names.bareZero) return names.name;
  return `${names.name} / subcode ${subcode}`;
}
