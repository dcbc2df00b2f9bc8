/**
 * The CNI IPAM plugin's logic (CNI SPEC.md, 1.1): reads the environment ("Parameters") and the
 * network configuration, asks the local podroute daemon, and writes the CNI result ("Section 5:
 * Result Types") or error. ADD, DEL, CHECK, GC and STATUS ("Section 4: Plugin Delegation"
 * for IPAM plugins), VERSION. Side effects are injected so the same code runs under tests.
 */
import { isIPv4 } from 'node:net';
import type { ApiResponse } from '../api/client.js';
import type { CniAllocation, CniAttachment, CniGcRequest, CniRequest } from '../api/cni.js';
import { DEFAULT_SOCKET, type ErrorBody } from '../api/endpoints.js';
import { CniError, CniErrorCode, SUPPORTED_VERSIONS } from './spec.js';

/** The endpoints the plugin calls: STATUS asks `GET /status`, the rest `POST /cni/…`. */
export type PluginPath = '/status' | '/cni/add' | '/cni/del' | '/cni/check' | '/cni/gc';

export interface PluginIo {
  env: Record<string, string | undefined>;
  stdin: string;
  /**
   * Calls the daemon's local API (GET without a body, else POST); throws when it cannot connect.
   * Answers the status and body as sent: the plugin maps them onto CNI error codes.
   */
  call(socket: string, path: PluginPath, body: CniRequest | CniGcRequest | undefined): Promise<ApiResponse>;
}

export interface PluginOutput {
  stdout: string;
  exitCode: number;
}

interface NetConf {
  cniVersion: string;
  name?: string;
  ipam?: { type?: string; socket?: string };
  /** CONVENTIONS.md "args in network config": `args.cni` carries per-attachment arguments. */
  args?: { cni?: Record<string, unknown> };
  'cni.dev/valid-attachments'?: unknown;
}

/**
 * SPEC.md "GC": the runtime lists the attachments still in use as `{containerID, ifname}`. A
 * missing or malformed list is refused: reading it as empty would release every address.
 */
export function parseValidAttachments(conf: NetConf): CniAttachment[] {
  const list = conf['cni.dev/valid-attachments'];
  if (!Array.isArray(list)) {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, 'cni.dev/valid-attachments is not a list');
  }
  return list.map((a: unknown, i) => {
    const e = (a ?? {}) as { containerID?: unknown; ifname?: unknown };
    if (
      typeof e.containerID !== 'string' ||
      e.containerID === '' ||
      typeof e.ifname !== 'string' ||
      e.ifname === ''
    ) {
      throw new CniError(
        CniErrorCode.InvalidNetworkConfig,
        `cni.dev/valid-attachments[${i}]: needs a containerID and an ifname`,
      );
    }
    return { containerId: e.containerID, ifname: e.ifname };
  });
}

function parseNetConf(stdin: string): NetConf {
  let conf: unknown;
  try {
    conf = JSON.parse(stdin);
  } catch {
    throw new CniError(CniErrorCode.DecodeFailure, 'network configuration on stdin is not JSON');
  }
  if (!conf || typeof conf !== 'object')
    throw new CniError(CniErrorCode.InvalidNetworkConfig, 'network configuration is not an object');
  const c = conf as NetConf;
  if (typeof c.cniVersion !== 'string') c.cniVersion = '0.3.1';
  return c;
}

/** The key a pod names its IPAM network with, in CNI_ARGS and in `args.cni`. */
export const NETWORK_ARG = 'podroute.io/network';

/**
 * The network the pod asks for: `podroute.io/network` in `args.cni` of the network configuration
 * (what a runtime passes per attachment) or in CNI_ARGS (`podroute.io/network=vlan-a`). Both
 * given and different, or not a name, is refused: guessing would put the pod on the wrong VLAN.
 */
export function requestedNetwork(
  conf: { args?: { cni?: Record<string, unknown> } },
  args: Record<string, string>,
): string | undefined {
  const fromConf = conf.args?.cni?.[NETWORK_ARG];
  if (fromConf !== undefined && (typeof fromConf !== 'string' || fromConf === '')) {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, `args.cni.${NETWORK_ARG} is not a network name`);
  }
  const fromEnv = args[NETWORK_ARG];
  if (fromEnv === '') throw new CniError(CniErrorCode.InvalidEnvironment, `CNI_ARGS ${NETWORK_ARG} is empty`);
  if (fromConf !== undefined && fromEnv !== undefined && fromConf !== fromEnv) {
    throw new CniError(
      CniErrorCode.InvalidNetworkConfig,
      `network ${fromConf} (args.cni) and ${fromEnv} (CNI_ARGS) disagree`,
    );
  }
  return fromConf ?? fromEnv;
}

/** CNI_ARGS: `KEY=VALUE` pairs separated by `;` (SPEC.md "Parameters"). */
export function parseArgs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function required(env: PluginIo['env'], name: string): string {
  const v = env[name];
  if (!v) throw new CniError(CniErrorCode.InvalidEnvironment, `${name} is not set`);
  return v;
}

/** SPEC.md: 0.3.x and 0.4.0 results carry `version` per IP; 1.0.0 removed it. */
function formatResult(version: string, a: CniAllocation): object {
  const family = isIPv4(a.address) ? '4' : '6';
  const ip: Record<string, string> = { address: `${a.address}/${a.prefixLength}` };
  if (a.gateway) ip.gateway = a.gateway;
  if (version.startsWith('0.')) ip.version = family;
  return {
    cniVersion: version,
    ips: [ip],
    routes: [{ dst: family === '4' ? '0.0.0.0/0' : '::/0' }],
    dns: {},
  };
}

async function ask(
  io: PluginIo,
  socket: string,
  path: PluginPath,
  body: CniRequest | CniGcRequest,
): Promise<unknown> {
  let res: ApiResponse;
  try {
    res = await io.call(socket, path, body);
  } catch (e) {
    throw new CniError(
      CniErrorCode.TryAgainLater,
      `podroute daemon unreachable at ${socket}`,
      (e as Error).message,
    );
  }
  const b = (res.body ?? {}) as Partial<ErrorBody>;
  if (res.status === 200) return res.body;
  if (res.status === 404 && path === '/cni/check') {
    throw new CniError(CniErrorCode.UnknownContainer, b.error ?? 'no allocation for this container');
  }
  if (res.status === 507) throw new CniError(CniErrorCode.AddressPoolExhausted, b.error ?? 'no address left');
  throw new CniError(b.code ?? CniErrorCode.DaemonError, b.error ?? `daemon answered ${res.status}`);
}

export async function runPlugin(io: PluginIo): Promise<PluginOutput> {
  const command = io.env.CNI_COMMAND;
  let version = '1.0.0';
  try {
    if (command === 'VERSION') {
      return {
        stdout: JSON.stringify({ cniVersion: '1.1.0', supportedVersions: SUPPORTED_VERSIONS }),
        exitCode: 0,
      };
    }
    const conf = parseNetConf(io.stdin);
    version = conf.cniVersion;
    if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
      const v = version;
      version = '1.0.0';
      throw new CniError(
        CniErrorCode.IncompatibleVersion,
        `CNI version ${v} is not supported`,
        `supported: ${SUPPORTED_VERSIONS.join(', ')}`,
      );
    }
    const socket = conf.ipam?.socket ?? DEFAULT_SOCKET;
    if (command === 'STATUS') {
      try {
        await io.call(socket, '/status', undefined);
      } catch (e) {
        throw new CniError(
          CniErrorCode.PluginNotAvailable,
          `podroute daemon unreachable at ${socket}`,
          (e as Error).message,
        );
      }
      return { stdout: '', exitCode: 0 };
    }
    if (command === 'GC') {
      // SPEC.md "GC": success prints nothing; the daemon releases what is not listed.
      await ask(io, socket, '/cni/gc', { validAttachments: parseValidAttachments(conf) });
      return { stdout: '', exitCode: 0 };
    }
    if (command !== 'ADD' && command !== 'DEL' && command !== 'CHECK') {
      throw new CniError(
        CniErrorCode.InvalidEnvironment,
        `CNI_COMMAND ${JSON.stringify(command ?? '')} is not ADD, DEL, CHECK, GC, STATUS or VERSION`,
      );
    }
    const request: CniRequest = {
      containerId: required(io.env, 'CNI_CONTAINERID'),
      ifname: required(io.env, 'CNI_IFNAME'),
      args: parseArgs(io.env.CNI_ARGS),
    };
    if (io.env.CNI_NETNS) request.netns = io.env.CNI_NETNS;
    const network = command === 'ADD' ? requestedNetwork(conf, request.args) : undefined;
    if (network !== undefined) request.network = network;
    if (command === 'ADD') {
      const a = (await ask(io, socket, '/cni/add', request)) as CniAllocation;
      return { stdout: JSON.stringify(formatResult(version, a)), exitCode: 0 };
    }
    if (command === 'DEL') {
      // SPEC.md: DEL must succeed when the allocation is already gone.
      await ask(io, socket, '/cni/del', request);
      return { stdout: '', exitCode: 0 };
    }
    await ask(io, socket, '/cni/check', request);
    return { stdout: '', exitCode: 0 };
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError(CniErrorCode.IoFailure, (e as Error).message);
    const out: Record<string, unknown> = { cniVersion: version, code: err.code, msg: err.message };
    if (err.details) out.details = err.details;
    return { stdout: JSON.stringify(out), exitCode: 1 };
  }
}
