/**
 * The errors IPAM raises to its callers: the CNI endpoint maps exhaustion to its own status, the
 * daemon reports a placement error like a configuration error.
 */

export class IpamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpamError';
  }
}

/** No group matches the node's labels: a configuration error, reported like one. */
export class IpamPlacementError extends IpamError {
  constructor(message: string) {
    super(message);
    this.name = 'IpamPlacementError';
  }
}

export class IpamExhaustedError extends IpamError {
  constructor(message: string) {
    super(message);
    this.name = 'IpamExhaustedError';
  }
}

/**
 * A pod asked for a network (CNI args) that the configuration does not define (`group` absent),
 * or that the node's group does not offer (`group` set). Never answered with another network.
 */
export class IpamNetworkError extends IpamError {
  constructor(
    message: string,
    readonly network: string,
    readonly group?: string,
  ) {
    super(message);
    this.name = 'IpamNetworkError';
  }
}
