/**
 * CNI spec types and constants (CNI 1.0/1.1, https://github.com/containernetworking/cni SPEC.md):
 * the subset an IPAM plugin reads and writes.
 */

/** Versions whose result format this plugin can write (0.3.x/0.4.0 add `version` to each IP). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** SPEC.md "Error": well-known error codes. */
export const CniErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  /** 1.1 STATUS: the plugin is not available (daemon unreachable). */
  PluginNotAvailable: 50,
  /** Plugin-specific codes start at 100. */
  AddressPoolExhausted: 100,
  DaemonError: 101,
  /** The pod asked for a network (CNI args) that is not defined or not offered to the node's group. */
  NetworkNotAvailable: 102,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}
