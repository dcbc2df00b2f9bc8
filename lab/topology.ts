/**
 * The Docker-free lab runner's model of a containerlab topology (`*.clab.yml`): which nodes exist, what
 * they run, how they are wired and addressed, and how to build that from the lab fixture — one network
 * namespace per node, one veth per link, a bridge namespace per `kind: bridge` node, FRR for `frr`
 * nodes, etcd for `etcd` nodes, the podroute daemon for `podroute` nodes.
 *
 * What the runner reads from the containerlab file (see containerlab/README.md):
 * - `name`; `topology.defaults.{kind,image}`; `topology.nodes.<name>`: `kind` (`linux` or `bridge`),
 *   `image`, `labels`, `binds`, `exec`, `cmd` (read by containerlab only: the runner starts each daemon
 *   itself);
 * - the node's role: label `podroute.lab/role` (`frr` | `podroute` | `etcd` | `linux`), else guessed
 *   from the image name (`frr`, `podroute`, `etcd`; anything else → a plain host);
 * - its config from `binds` (`host:container[:ro]`, host path relative to the topology file):
 *   container path `/etc/frr/frr.conf` for FRR, a `*.yaml`/`*.yml` under `/etc/podroute/` for podroute
 *   (checked with the daemon's own schema);
 * - addressing from `exec` lines, which must be `ip ...` or `sysctl ...` commands (run inside the node's
 *   namespace) and may only name addresses in 198.18.0.0/15 or 2001:db8::/32 (the lab address space);
 * - `topology.links[].endpoints: ["node:ifname", "node:ifname"]`; an endpoint on a bridge node names
 *   the bridge's port.
 *
 * Anything else containerlab knows (`mgmt`, other kinds, `env`, `ports`, per-link `mtu`, ...) would
 * be silently different in this runner, so it is refused: one line per key, naming node and key.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, validateConfig } from '../src/config/load.js';
import { parsePrefix, prefixContains } from '../src/net/prefix.js';
import { forEachLimit } from './concurrency.js';
import {
  type Bridge,
  checkIfname,
  type Etcd,
  type FrrRouter,
  type Lab,
  type Link,
  type Namespace,
  type PodrouteNode,
  run,
  sleep,
  startEtcd,
  startFrr,
  startPodroute,
} from './fixture/index.js';

export type NodeRole = 'frr' | 'podroute' | 'etcd' | 'linux' | 'bridge';

export interface LabNodeSpec {
  name: string;
  role: NodeRole;
  image: string | undefined;
  /** The node's containerlab labels, as strings. */
  labels: Record<string, string>;
  /** frr.conf text (role `frr`). */
  frrConfig?: string;
  /** podroute.yaml content (role `podroute`). */
  podrouteConfig?: Record<string, unknown>;
  /** `exec` lines as argv arrays (`['ip', 'addr', 'add', ...]`). */
  exec: string[][];
  /** The addresses (no length) the node's `ip addr add` lines configure, in order. */
  addresses: string[];
}

export interface LinkEndpointSpec {
  node: string;
  ifname: string;
}

export interface LabLinkSpec {
  a: LinkEndpointSpec;
  b: LinkEndpointSpec;
}

export interface LabTopology {
  name: string;
  file: string;
  nodes: LabNodeSpec[];
  links: LabLinkSpec[];
}

export class TopologyError extends Error {
  /** One line per problem: `<file>: <key path>: <what is wrong>`. */
  readonly problems: readonly string[];

  constructor(file: string, path: string, message: string);
  constructor(file: string, problems: readonly { path: string; message: string }[]);
  constructor(file: string, pathOrList: string | readonly { path: string; message: string }[], message = '') {
    const list = typeof pathOrList === 'string' ? [{ path: pathOrList, message }] : pathOrList;
    const lines = list.map((p) => `${file}: ${p.path}: ${p.message}`);
    super(lines.join('\n'));
    this.problems = lines;
    this.name = 'TopologyError';
  }
}

export const ROLE_LABEL = 'podroute.lab/role';
/** The labels of the runner's own namespace `podroute.lab/`: the role, and the pod count (lab/pods.ts). */
const RUNNER_LABELS = new Set([ROLE_LABEL, 'podroute.lab/pods', 'podroute.lab/pod-networks']);
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ROLES = ['frr', 'podroute', 'linux', 'etcd'] as const;

/** Keys the runner implements, per level; everything else is refused by name. */
const ROOT_KEYS = new Set(['name', 'topology']);
const TOPOLOGY_KEYS = new Set(['nodes', 'links', 'defaults']);
const DEFAULTS_KEYS = new Set(['kind', 'image']);
const NODE_KEYS = new Set(['kind', 'image', 'labels', 'binds', 'exec', 'cmd']);
const BRIDGE_KEYS = new Set(['kind', 'labels']);
const LINK_KEYS = new Set(['endpoints']);

/** Why a containerlab key has no equivalent here (the generic reason otherwise). */
const WHY: Record<string, string> = {
  mgmt: 'the runner has no management network (namespaces have no Docker eth0); use a kind: bridge segment',
  'mgmt-ipv4': 'the runner has no management network; address the node with exec lines',
  'mgmt-ipv6': 'the runner has no management network; address the node with exec lines',
  prefix: 'the runner names namespaces <name>-<node> (use `lab up --name` for another prefix)',
  kinds: 'per-kind defaults are not supported; set the keys on each node or in topology.defaults',
  groups: 'node groups are not supported; set the keys on each node',
  env: 'the runner passes no environment variables (node.name of a podroute node defaults to the node name)',
};

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const clabNodeSchema = z.looseObject({
  kind: z.string().optional(),
  image: z.string().optional(),
  labels: z.record(z.string(), scalar).optional(),
  binds: z.array(z.string()).optional(),
  exec: z.array(z.string()).optional(),
  cmd: z.string().optional(),
});

const clabSchema = z.looseObject({
  name: z.string().regex(NAME, 'is not a valid lab name (letters, digits, _ . -)'),
  topology: z.looseObject({
    defaults: z.looseObject({ kind: z.string().optional(), image: z.string().optional() }).optional(),
    nodes: z.record(z.string(), clabNodeSchema.nullable()),
    links: z.array(z.looseObject({ endpoints: z.tuple([z.string(), z.string()]) })).default([]),
  }),
});

/** The only address space a lab may configure (lab/README.md: test ranges, inside lab namespaces). */
const LAB_SPACE = [parsePrefix('198.18.0.0/15'), parsePrefix('2001:db8::/32')];

function inLabSpace(token: string): boolean {
  const p = parsePrefix(token.includes('/') ? token : `${token}/${token.includes(':') ? 128 : 32}`, false);
  return LAB_SPACE.some((s) => s.family === p.family && prefixContains(s, p));
}

/** Tokens that look like an IPv4/IPv6 address or prefix. */
function addressTokens(argv: readonly string[]): string[] {
  return argv.filter(
    (w) => /^\d{1,3}(\.\d{1,3}){3}(\/\d+)?$/.test(w) || /^[0-9a-fA-F]*:[0-9a-fA-F:]*(\/\d+)?$/.test(w),
  );
}

/** The address an `ip [-4|-6] addr|address add ADDR ...` line configures. */
function addedAddress(argv: readonly string[]): string | undefined {
  const words = argv.filter((w) => w !== '-4' && w !== '-6');
  if (words[0] !== 'ip' || !/^a(d(d(r(e(s(s)?)?)?)?)?)?$/.test(words[1] ?? '') || words[2] !== 'add')
    return undefined;
  return words[3]?.split('/')[0];
}

function roleOf(labels: Record<string, unknown> | undefined, image: string | undefined): NodeRole | string {
  const label = labels?.[ROLE_LABEL];
  if (label !== undefined) return String(label);
  if (image && /frr/i.test(image)) return 'frr';
  if (image && /podroute/i.test(image)) return 'podroute';
  if (image && /etcd/i.test(image)) return 'etcd';
  return 'linux';
}

function parseEndpoint(text: string): LinkEndpointSpec | string {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1) return `"${text}" is not "node:interface"`;
  const ep = { node: text.slice(0, i), ifname: text.slice(i + 1) };
  try {
    checkIfname(ep.ifname);
  } catch (e) {
    return (e as Error).message;
  }
  return ep;
}

function unknownKeys(
  obj: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  path: string,
  bad: (path: string, message: string) => void,
  what: string,
): void {
  for (const k of Object.keys(obj)) {
    if (allowed.has(k)) continue;
    bad(
      `${path ? `${path}.` : ''}${k}`,
      `is not supported by the lab runner${WHY[k] ? `: ${WHY[k]}` : ` (${what})`}`,
    );
  }
}

/**
 * Parses and checks a containerlab topology; config files named in `binds` are read relative to the
 * topology file's directory. Throws `TopologyError` with one line per problem, each naming its key.
 */
export function parseTopology(text: string, file: string): LabTopology {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new TopologyError(file, '(yaml)', (e as Error).message.split('\n')[0]!);
  }
  const parsed = clabSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TopologyError(
      file,
      parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
    );
  }
  const clab = parsed.data;
  const problems: { path: string; message: string }[] = [];
  const bad = (path: string, message: string): void => {
    problems.push({ path, message });
  };
  unknownKeys(clab, ROOT_KEYS, '', bad, 'it reads name and topology');
  unknownKeys(clab.topology, TOPOLOGY_KEYS, 'topology', bad, 'it reads nodes, links and defaults');
  if (clab.topology.defaults)
    unknownKeys(clab.topology.defaults, DEFAULTS_KEYS, 'topology.defaults', bad, 'it reads kind and image');
  const baseDir = dirname(resolve(file));
  const nodes: LabNodeSpec[] = [];
  for (const [name, maybeNode] of Object.entries(clab.topology.nodes)) {
    const path = `topology.nodes.${name}`;
    if (!NAME.test(name)) bad(path, 'is not a valid node name');
    const node = maybeNode ?? {};
    const kind = node.kind ?? clab.topology.defaults?.kind ?? 'linux';
    if (kind !== 'linux' && kind !== 'bridge') {
      bad(`${path}.kind`, `"${kind}" is not supported by the lab runner (only linux and bridge)`);
      continue;
    }
    const labels = Object.fromEntries(Object.entries(node.labels ?? {}).map(([k, v]) => [k, String(v)]));
    for (const k of Object.keys(labels)) {
      if (k.startsWith('podroute.lab/') && !RUNNER_LABELS.has(k))
        bad(`${path}.labels.${k}`, `is not a label of the lab runner (${[...RUNNER_LABELS].join(', ')})`);
    }
    if (kind === 'bridge') {
      unknownKeys(node, BRIDGE_KEYS, path, bad, 'a bridge node is a layer 2 segment: only kind and labels');
      if (labels[ROLE_LABEL] !== undefined)
        bad(`${path}.labels.${ROLE_LABEL}`, 'a bridge node has no role (it is the segment itself)');
      nodes.push({ name, role: 'bridge', image: undefined, labels, exec: [], addresses: [] });
      continue;
    }
    unknownKeys(node, NODE_KEYS, path, bad, 'it reads kind, image, labels, binds, exec and cmd');
    const image = node.image ?? clab.topology.defaults?.image;
    const role = roleOf(labels, image);
    if (!(ROLES as readonly string[]).includes(role)) {
      bad(`${path}.labels.${ROLE_LABEL}`, `"${role}" is not one of ${ROLES.join(', ')}`);
      continue;
    }
    const spec: LabNodeSpec = { name, role: role as NodeRole, image, labels, exec: [], addresses: [] };
    for (const [i, bind] of (node.binds ?? []).entries()) {
      const at = `${path}.binds[${i}]`;
      const [host, container] = bind.split(':');
      if (!host || !container) {
        bad(at, `"${bind}" is not "host:container"`);
        continue;
      }
      const hostPath = resolve(baseDir, host);
      const read = (): string | undefined => {
        try {
          return readFileSync(hostPath, 'utf8');
        } catch (e) {
          bad(at, `cannot read ${hostPath}: ${(e as Error).message}`);
          return undefined;
        }
      };
      if (spec.role === 'frr' && container === '/etc/frr/frr.conf') spec.frrConfig = read();
      if (spec.role === 'podroute' && /^\/etc\/podroute\/.*\.ya?ml$/.test(container)) {
        const text = read();
        if (text === undefined) continue;
        let cfg: unknown;
        try {
          cfg = parseYaml(text);
        } catch (e) {
          bad(at, `${hostPath}: ${(e as Error).message.split('\n')[0]}`);
          continue;
        }
        if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) {
          bad(at, `${hostPath} is not a YAML mapping`);
          continue;
        }
        try {
          validateConfig(cfg);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          for (const p of e.problems) bad(at, `${host}: ${p}`);
        }
        spec.podrouteConfig = cfg as Record<string, unknown>;
      }
    }
    if (spec.role === 'frr' && spec.frrConfig === undefined && !problems.some((p) => p.path.startsWith(path)))
      bad(`${path}.binds`, 'an frr node needs a bind to /etc/frr/frr.conf');
    if (
      spec.role === 'podroute' &&
      spec.podrouteConfig === undefined &&
      !problems.some((p) => p.path.startsWith(path))
    )
      bad(`${path}.binds`, 'a podroute node needs a bind to /etc/podroute/<file>.yaml');
    for (const [i, line] of (node.exec ?? []).entries()) {
      const argv = line.trim().split(/\s+/).filter(Boolean);
      const at = `${path}.exec[${i}]`;
      if (argv[0] !== 'ip' && argv[0] !== 'sysctl') {
        bad(at, `"${line}": the lab runner runs only "ip ..." and "sysctl ..." lines`);
        continue;
      }
      let ok = true;
      for (const tok of addressTokens(argv)) {
        let inside = false;
        try {
          inside = inLabSpace(tok);
        } catch {
          bad(at, `"${tok}" is not a valid address`);
          ok = false;
          continue;
        }
        if (!inside) {
          bad(at, `${tok} is outside the lab address space 198.18.0.0/15, 2001:db8::/32`);
          ok = false;
        }
      }
      if (!ok) continue;
      spec.exec.push(argv);
      const added = addedAddress(argv);
      if (added) spec.addresses.push(added);
    }
    if (spec.role === 'etcd' && !spec.addresses.some((a) => !a.includes(':')))
      bad(`${path}.exec`, 'an etcd node needs an IPv4 address (ip addr add ...) to serve clients on');
    nodes.push(spec);
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const used = new Set<string>();
  const links: LabLinkSpec[] = [];
  for (const [i, l] of clab.topology.links.entries()) {
    unknownKeys(l, LINK_KEYS, `topology.links[${i}]`, bad, 'a link is its two endpoints');
    const ends: LinkEndpointSpec[] = [];
    for (const [j, text] of l.endpoints.entries()) {
      const at = `topology.links[${i}].endpoints[${j}]`;
      const ep = parseEndpoint(text);
      if (typeof ep === 'string') {
        bad(at, ep);
        continue;
      }
      if (!byName.has(ep.node) && clab.topology.nodes[ep.node] === undefined) {
        bad(at, `node "${ep.node}" is not defined`);
        continue;
      }
      const key = `${ep.node}:${ep.ifname}`;
      if (used.has(key)) bad(at, `${key} is used by two links`);
      used.add(key);
      ends.push(ep);
    }
    if (ends.length !== 2) continue;
    const [a, b] = ends as [LinkEndpointSpec, LinkEndpointSpec];
    if (byName.get(a.node)?.role === 'bridge' && byName.get(b.node)?.role === 'bridge')
      bad(
        `topology.links[${i}]`,
        'a link between two bridge nodes is not supported (join them as one bridge)',
      );
    links.push({ a, b });
  }
  if (problems.length) throw new TopologyError(file, problems);
  return { name: clab.name, file: resolve(file), nodes, links };
}

export function loadTopology(file: string): LabTopology {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TopologyError(file, '(file)', (e as Error).message);
  }
  return parseTopology(text, file);
}

export interface BuildOptions {
  /** Roles whose daemons are not started (their namespaces, links and addresses still are). */
  skipDaemons?: readonly NodeRole[];
  /** Progress lines for people (`lab up` prints them). */
  onProgress?: (line: string) => void;
  /** The podroute executable; default `<repo>/bin/podroute`. */
  podrouteBin?: string;
  /** Kernel and daemon operations in flight at once; default 8 (the CI machine has 2 cores). */
  concurrency?: number;
  /** How long every podroute API may take to answer after its start; default 30 s + 1.5 s per daemon. */
  readyTimeoutMs?: number;
}

/** What `lab status` needs to find a node again from another process. */
export interface NodeMeta {
  name: string;
  role: NodeRole;
  netns: string;
  /** podroute's API socket (role podroute, when started). */
  socket?: string;
  /** FRR is running in the namespace (`vtysh -N <netns>`). */
  frr?: boolean;
  /** etcd's client URLs (role etcd, when started). */
  etcd?: string[];
}

export interface RunningTopology {
  lab: Lab;
  topology: LabTopology;
  namespaces: Map<string, Namespace>;
  bridges: Map<string, Bridge>;
  /** veth links between two (non-bridge) nodes, keyed `node:ifname` of each end. */
  links: Map<string, Link>;
  frr: Map<string, FrrRouter>;
  etcd: Map<string, Etcd>;
  podroute: Map<string, PodrouteNode>;
  nodes: NodeMeta[];
}

/** `ip [-n NETNS] -batch -`: many iproute2 commands in one process; fails on the first failing line. */
async function ipBatch(netns: string | undefined, lines: readonly string[][]): Promise<void> {
  if (lines.length === 0) return;
  await run('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], {
    input: `${lines.map((l) => l.join(' ')).join('\n')}\n`,
  });
}

/** GET /status on a podroute API socket, in this process (no CLI process per poll: 32 nodes poll). */
function apiAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolveOk) => {
    const req = request({ socketPath, path: '/status', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolveOk(res.statusCode === 200);
    });
    req.on('error', () => resolveOk(false));
    req.on('timeout', () => {
      req.destroy();
      resolveOk(false);
    });
    req.end();
  });
}

/**
 * The config the lab starts a podroute node with: the file's, with the node's IPAM state in the lab
 * temp dir (in containerlab each container has its own /var/lib/podroute) and a `file://` block store
 * moved into the lab temp dir, shared by the nodes naming the same file, as a bind-mounted host
 * directory would be; `node.name` defaults to the node's name. The fixture points `api.socket` into
 * the temp dir.
 */
export function labPodrouteConfig(lab: Lab, node: LabNodeSpec): Record<string, unknown> {
  const cfg = structuredClone(node.podrouteConfig ?? {});
  // A containerlab node's hostname is its name, podroute's default node name; a namespace shares the
  // host's hostname, so the name is written into the config (which a restart reads again).
  const own = cfg.node;
  if (typeof own !== 'object' || own === null || Array.isArray(own)) cfg.node = { name: node.name };
  else if ((own as Record<string, unknown>).name === undefined)
    (own as Record<string, unknown>).name = node.name;
  const ipam = cfg.ipam;
  if (typeof ipam === 'object' && ipam !== null && !Array.isArray(ipam)) {
    const i = ipam as Record<string, unknown>;
    i.stateDir = lab.makeDir(`ipam-state/${node.name}`);
    if (typeof i.store === 'string' && i.store.startsWith('file://'))
      i.store = `file://${lab.makeDir('ipam-store')}/${basename(i.store.slice('file://'.length))}`;
  }
  return cfg;
}

/**
 * Builds the topology inside `lab`: namespaces and bridges, then links, then `exec` lines, then FRR and
 * etcd, then podroute (last, so its leafs listen and its store answers). Each stage runs its steps
 * `concurrency` at a time; podroute daemons are all started before any is waited for. On failure the
 * lab is left for the caller to destroy.
 */
export async function buildTopology(
  lab: Lab,
  topo: LabTopology,
  opts: BuildOptions = {},
): Promise<RunningTopology> {
  const say = opts.onProgress ?? (() => {});
  const skip = new Set(opts.skipDaemons ?? []);
  const limit = opts.concurrency ?? 8;
  const running: RunningTopology = {
    lab,
    topology: topo,
    namespaces: new Map(),
    bridges: new Map(),
    links: new Map(),
    frr: new Map(),
    etcd: new Map(),
    podroute: new Map(),
    // In topology order, whatever order the parallel steps finish in.
    nodes: topo.nodes.map((n) => ({ name: n.name, role: n.role, netns: `${lab.prefix}-${n.name}` })),
  };
  const meta = (name: string): NodeMeta => running.nodes.find((m) => m.name === name)!;
  const saveMeta = (): void => lab.setMeta({ topology: topo.file, name: topo.name, nodes: running.nodes });
  const timed = async (what: string, fn: () => Promise<string>): Promise<void> => {
    const t0 = Date.now();
    const detail = await fn();
    say(`${what}${detail ? ` ${detail}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  };
  saveMeta();

  await timed(`${topo.nodes.length} namespaces`, async () => {
    await forEachLimit(topo.nodes, limit, async (n) => {
      if (n.role === 'bridge') {
        const br = await lab.addBridge(n.name);
        running.bridges.set(n.name, br);
        running.namespaces.set(n.name, br.ns);
      } else {
        running.namespaces.set(n.name, await lab.addNamespace(n.name));
      }
    });
    saveMeta();
    const bridges = topo.nodes.filter((n) => n.role === 'bridge').map((n) => n.name);
    return bridges.length ? `(bridges: ${bridges.join(', ')})` : '';
  });

  // Links: every veth created by one `ip -batch` in the root namespace, each end directly inside its
  // node's namespace (never in the root namespace); then one batch per namespace brings its ends up
  // (and enslaves bridge ports). A few processes for the whole lab instead of several per link;
  // IPv6 DAD is already off through the namespaces' `default` settings.
  await timed(`${topo.links.length} links`, async () => {
    const perNs = new Map<string, string[][]>();
    const inNs = (node: string, line: string[]): void => {
      const list = perNs.get(node) ?? [];
      list.push(line);
      perNs.set(node, list);
    };
    const creates: string[][] = [];
    for (const l of topo.links) {
      const [a, b] = [l.a, l.b].map((e) => ({ ...e, ns: running.namespaces.get(e.node)! }));
      creates.push([
        'link',
        'add',
        a!.ifname,
        'netns',
        a!.ns.name,
        'type',
        'veth',
        'peer',
        'name',
        b!.ifname,
        'netns',
        b!.ns.name,
      ]);
      for (const e of [a!, b!]) {
        if (running.bridges.has(e.node)) inNs(e.node, ['link', 'set', 'dev', e.ifname, 'master', 'br0']);
        inNs(e.node, ['link', 'set', 'dev', e.ifname, 'up']);
      }
      const brA = running.bridges.get(l.a.node);
      const brB = running.bridges.get(l.b.node);
      if (brA || brB) {
        const member = brA ? b! : a!;
        (brA ?? brB)!.members.push({ ns: member.ns, ifname: member.ifname });
        continue;
      }
      const link: Link = {
        a: { ns: a!.ns, ifname: a!.ifname },
        b: { ns: b!.ns, ifname: b!.ifname },
        set: async (state, side) => {
          if (side !== 'b') await a!.ns.setLink(a!.ifname, state);
          if (side !== 'a') await b!.ns.setLink(b!.ifname, state);
        },
      };
      running.links.set(`${l.a.node}:${l.a.ifname}`, link);
      running.links.set(`${l.b.node}:${l.b.ifname}`, link);
    }
    await ipBatch(undefined, creates);
    await forEachLimit([...perNs], limit, ([node, lines]) =>
      ipBatch(running.namespaces.get(node)!.name, lines),
    );
    return '';
  });

  const withExec = topo.nodes.filter((n) => n.exec.length > 0);
  await timed(`exec lines of ${withExec.length} nodes`, async () => {
    await forEachLimit(withExec, limit, async (n) => {
      const ns = running.namespaces.get(n.name)!;
      // Consecutive `ip` lines without global options go in one batch; order is kept.
      let batch: string[][] = [];
      const flush = async (): Promise<void> => {
        await ipBatch(ns.name, batch);
        batch = [];
      };
      for (const argv of n.exec) {
        if (argv[0] === 'ip' && !argv[1]?.startsWith('-')) {
          batch.push(argv.slice(1));
          continue;
        }
        await flush();
        if (argv[0] === 'ip') await ns.ip(argv.slice(1));
        else await ns.exec(argv[0]!, argv.slice(1));
      }
      await flush();
    });
    return '';
  });

  const routers = topo.nodes.filter((n) => (n.role === 'frr' || n.role === 'etcd') && !skip.has(n.role));
  if (routers.length) {
    await timed(`${routers.length} FRR/etcd nodes started`, async () => {
      await forEachLimit(routers, limit, async (n) => {
        const ns = running.namespaces.get(n.name)!;
        if (n.role === 'etcd') {
          const hosts = n.addresses.filter((a) => !a.includes(':'));
          const etcd = await startEtcd(lab, { ns, clientHosts: hosts });
          running.etcd.set(n.name, etcd);
          meta(n.name).etcd = hosts.map((h) => `http://${h}:${etcd.clientPort}`);
          say(`${n.name}: etcd serving ${meta(n.name).etcd!.join(', ')}`);
        } else {
          const router = await startFrr(ns, { config: n.frrConfig! });
          running.frr.set(n.name, router);
          meta(n.name).frr = true;
          say(`${n.name}: FRR started (zebra, ${router.daemons.join(', ')})`);
        }
      });
      saveMeta();
      return '';
    });
  }

  const prNodes = topo.nodes.filter((n) => n.role === 'podroute' && !skip.has('podroute'));
  if (prNodes.length) {
    await timed(`${prNodes.length} podroute daemons answering`, async () => {
      // Spawn every daemon first, then wait for all APIs together: no node waits behind another.
      await forEachLimit(prNodes, limit, async (n) => {
        const node = await startPodroute(running.namespaces.get(n.name)!, {
          config: labPodrouteConfig(lab, n),
          noWait: true,
          ...(opts.podrouteBin ? { bin: opts.podrouteBin } : {}),
        });
        running.podroute.set(n.name, node);
        meta(n.name).socket = node.socketPath;
      });
      saveMeta();
      // Starting a daemon costs CPU (Node loading podroute): on a small machine 32 of them take their
      // time, so the wait grows with the number of daemons.
      const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000 + 1500 * prNodes.length);
      const waiting = new Set(prNodes.map((n) => n.name));
      while (waiting.size) {
        await Promise.all(
          [...waiting].map(async (name) => {
            const node = running.podroute.get(name)!;
            if (!node.running)
              throw new Error(
                `${name}: podroute exited (${JSON.stringify(node.process?.exit)}):\n${node.process?.tail(30) ?? ''}`,
              );
            if (await apiAnswers(node.socketPath)) waiting.delete(name);
          }),
        );
        if (!waiting.size) break;
        if (Date.now() > deadline)
          throw new Error(`podroute API did not answer within the timeout on: ${[...waiting].join(', ')}`);
        await sleep(100);
      }
      return '';
    });
  }
  for (const n of topo.nodes) {
    if (skip.has(n.role) && n.role !== 'linux' && n.role !== 'bridge')
      say(`${n.name}: ${n.role} not started (skipped)`);
  }
  saveMeta();
  return running;
}
