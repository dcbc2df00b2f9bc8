/**
 * The Docker-free lab runner's model of a containerlab topology (`*.clab.yml`): which nodes exist, what
 * they run, how they are wired and addressed, and how to build that from the lab fixture — one network
 * namespace per node, one veth per link, FRR for `frr` nodes, the podroute daemon for `podroute` nodes.
 *
 * What the runner reads from the containerlab file (see containerlab/README.md):
 * - `name`; `topology.nodes.<name>`: `kind` (only `linux`), `image`, `labels`, `binds`, `exec`;
 * - the node's role: label `podroute.lab/role` (`frr` | `podroute` | `linux`), else guessed from the
 *   image name (`frr` → frr, `podroute` → podroute, anything else → a plain host);
 * - its config from `binds` (`host:container[:ro]`, host path relative to the topology file):
 *   container path `/etc/frr/frr.conf` for FRR, a `*.yaml`/`*.yml` under `/etc/podroute/` for podroute;
 * - addressing from `exec` lines, which must be `ip ...` or `sysctl ...` commands (run inside the node's
 *   namespace) and may only name addresses in 198.18.0.0/15 or 2001:db8::/32 (the lab address space);
 * - `topology.links[].endpoints: ["node:ifname", "node:ifname"]`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parsePrefix, prefixContains } from '../src/net/prefix.js';
import {
  checkIfname,
  type FrrRouter,
  type Lab,
  type Namespace,
  type PodrouteNode,
  startFrr,
  startPodroute,
} from './fixture/index.js';

export type NodeRole = 'frr' | 'podroute' | 'linux';

export interface LabNodeSpec {
  name: string;
  role: NodeRole;
  image: string | undefined;
  /** frr.conf text (role `frr`). */
  frrConfig?: string;
  /** podroute.yaml content (role `podroute`). */
  podrouteConfig?: Record<string, unknown>;
  /** `exec` lines as argv arrays (`['ip', 'addr', 'add', ...]`). */
  exec: string[][];
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
  constructor(file: string, path: string, message: string) {
    super(`${file}: ${path}: ${message}`);
    this.name = 'TopologyError';
  }
}

const ROLE_LABEL = 'podroute.lab/role';
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

const clabNodeSchema = z.looseObject({
  kind: z.string().optional(),
  image: z.string().optional(),
  labels: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
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

function roleOf(
  name: string,
  labels: Record<string, unknown> | undefined,
  image: string | undefined,
  file: string,
): NodeRole {
  const label = labels?.[ROLE_LABEL];
  if (label !== undefined) {
    if (label === 'frr' || label === 'podroute' || label === 'linux') return label;
    throw new TopologyError(
      file,
      `topology.nodes.${name}.labels.${ROLE_LABEL}`,
      `"${String(label)}" is not one of frr, podroute, linux`,
    );
  }
  if (image && /frr/i.test(image)) return 'frr';
  if (image && /podroute/i.test(image)) return 'podroute';
  return 'linux';
}

function parseEndpoint(text: string, path: string, file: string): LinkEndpointSpec {
  const i = text.indexOf(':');
  if (i <= 0 || i === text.length - 1)
    throw new TopologyError(file, path, `"${text}" is not "node:interface"`);
  const ep = { node: text.slice(0, i), ifname: text.slice(i + 1) };
  try {
    checkIfname(ep.ifname);
  } catch (e) {
    throw new TopologyError(file, path, (e as Error).message);
  }
  return ep;
}

/**
 * Parses and checks a containerlab topology; config files named in `binds` are read relative to the
 * topology file's directory. Throws `TopologyError` naming the offending key.
 */
export function parseTopology(text: string, file: string): LabTopology {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new TopologyError(file, '(yaml)', (e as Error).message);
  }
  const parsed = clabSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TopologyError(file, issue.path.join('.') || '(root)', issue.message);
  }
  const clab = parsed.data;
  const baseDir = dirname(resolve(file));
  const nodes: LabNodeSpec[] = [];
  for (const [name, maybeNode] of Object.entries(clab.topology.nodes)) {
    const path = `topology.nodes.${name}`;
    if (!NAME.test(name)) throw new TopologyError(file, path, 'is not a valid node name');
    const node = maybeNode ?? {};
    const kind = node.kind ?? clab.topology.defaults?.kind ?? 'linux';
    if (kind !== 'linux')
      throw new TopologyError(
        file,
        `${path}.kind`,
        `"${kind}" is not supported by the lab runner (only linux)`,
      );
    const image = node.image ?? clab.topology.defaults?.image;
    const role = roleOf(name, node.labels, image, file);
    const spec: LabNodeSpec = { name, role, image, exec: [] };
    for (const [i, bind] of (node.binds ?? []).entries()) {
      const [host, container] = bind.split(':');
      if (!host || !container)
        throw new TopologyError(file, `${path}.binds[${i}]`, `"${bind}" is not "host:container"`);
      const hostPath = resolve(baseDir, host);
      const read = (): string => {
        try {
          return readFileSync(hostPath, 'utf8');
        } catch (e) {
          throw new TopologyError(
            file,
            `${path}.binds[${i}]`,
            `cannot read ${hostPath}: ${(e as Error).message}`,
          );
        }
      };
      if (role === 'frr' && container === '/etc/frr/frr.conf') spec.frrConfig = read();
      if (role === 'podroute' && /^\/etc\/podroute\/.*\.ya?ml$/.test(container)) {
        const cfg: unknown = parseYaml(read());
        if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) {
          throw new TopologyError(file, `${path}.binds[${i}]`, `${hostPath} is not a YAML mapping`);
        }
        spec.podrouteConfig = cfg as Record<string, unknown>;
      }
    }
    if (role === 'frr' && spec.frrConfig === undefined) {
      throw new TopologyError(file, `${path}.binds`, 'an frr node needs a bind to /etc/frr/frr.conf');
    }
    if (role === 'podroute' && spec.podrouteConfig === undefined) {
      throw new TopologyError(
        file,
        `${path}.binds`,
        'a podroute node needs a bind to /etc/podroute/<file>.yaml',
      );
    }
    for (const [i, line] of (node.exec ?? []).entries()) {
      const argv = line.trim().split(/\s+/).filter(Boolean);
      const at = `${path}.exec[${i}]`;
      if (argv[0] !== 'ip' && argv[0] !== 'sysctl') {
        throw new TopologyError(
          file,
          at,
          `"${line}": the lab runner runs only "ip ..." and "sysctl ..." lines`,
        );
      }
      for (const tok of addressTokens(argv)) {
        let ok = false;
        try {
          ok = inLabSpace(tok);
        } catch {
          throw new TopologyError(file, at, `"${tok}" is not a valid address`);
        }
        if (!ok)
          throw new TopologyError(
            file,
            at,
            `${tok} is outside the lab address space 198.18.0.0/15, 2001:db8::/32`,
          );
      }
      spec.exec.push(argv);
    }
    nodes.push(spec);
  }
  const names = new Set(nodes.map((n) => n.name));
  const used = new Set<string>();
  const links: LabLinkSpec[] = clab.topology.links.map((l, i) => {
    const [a, b] = l.endpoints.map((e, j) =>
      parseEndpoint(e, `topology.links[${i}].endpoints[${j}]`, file),
    ) as [LinkEndpointSpec, LinkEndpointSpec];
    for (const [j, ep] of [a, b].entries()) {
      const at = `topology.links[${i}].endpoints[${j}]`;
      if (!names.has(ep.node)) throw new TopologyError(file, at, `node "${ep.node}" is not defined`);
      const key = `${ep.node}:${ep.ifname}`;
      if (used.has(key)) throw new TopologyError(file, at, `${key} is used by two links`);
      used.add(key);
    }
    return { a, b };
  });
  return { name: clab.name, file: resolve(file), nodes, links };
}

export function loadTopology(file: string): LabTopology {
  return parseTopology(readFileSync(file, 'utf8'), file);
}

export interface BuildOptions {
  /** Roles whose daemons are not started (their namespaces, links and addresses still are). */
  skipDaemons?: readonly NodeRole[];
  /** Progress lines for people (`lab/cli.ts up` prints them). */
  onProgress?: (line: string) => void;
  /** The podroute executable; default `<repo>/bin/podroute`. */
  podrouteBin?: string;
}

/** What `lab/cli.ts status` needs to find a node again from another process. */
export interface NodeMeta {
  name: string;
  role: NodeRole;
  netns: string;
  /** podroute's API socket (role podroute, when started). */
  socket?: string;
  /** FRR is running in the namespace (`vtysh -N <netns>`). */
  frr?: boolean;
}

export interface RunningTopology {
  lab: Lab;
  topology: LabTopology;
  namespaces: Map<string, Namespace>;
  frr: Map<string, FrrRouter>;
  podroute: Map<string, PodrouteNode>;
  nodes: NodeMeta[];
}

/**
 * Builds the topology inside `lab`: namespaces, veths, `exec` lines, then FRR, then podroute (podroute
 * last so its leafs are already listening). On failure the lab is left for the caller to destroy.
 */
export async function buildTopology(
  lab: Lab,
  topo: LabTopology,
  opts: BuildOptions = {},
): Promise<RunningTopology> {
  const say = opts.onProgress ?? (() => {});
  const skip = new Set(opts.skipDaemons ?? []);
  const running: RunningTopology = {
    lab,
    topology: topo,
    namespaces: new Map(),
    frr: new Map(),
    podroute: new Map(),
    nodes: [],
  };
  const saveMeta = (): void => lab.setMeta({ topology: topo.file, name: topo.name, nodes: running.nodes });
  for (const n of topo.nodes) {
    const ns = await lab.addNamespace(n.name);
    running.namespaces.set(n.name, ns);
    running.nodes.push({ name: n.name, role: n.role, netns: ns.name });
    say(`namespace ${ns.name} (${n.role})`);
  }
  saveMeta();
  for (const l of topo.links) {
    await lab.addLink(
      { ns: running.namespaces.get(l.a.node)!, ifname: l.a.ifname },
      { ns: running.namespaces.get(l.b.node)!, ifname: l.b.ifname },
    );
    say(`link ${l.a.node}:${l.a.ifname} <-> ${l.b.node}:${l.b.ifname}`);
  }
  for (const n of topo.nodes) {
    const ns = running.namespaces.get(n.name)!;
    for (const argv of n.exec) {
      if (argv[0] === 'ip') await ns.ip(argv.slice(1));
      else await ns.exec(argv[0]!, argv.slice(1));
    }
    if (n.exec.length) say(`${n.name}: ${n.exec.length} exec line(s) applied`);
  }
  const frrNodes = topo.nodes.filter((n) => n.role === 'frr' && !skip.has('frr'));
  await Promise.all(
    frrNodes.map(async (n) => {
      const router = await startFrr(running.namespaces.get(n.name)!, { config: n.frrConfig! });
      running.frr.set(n.name, router);
      running.nodes.find((m) => m.name === n.name)!.frr = true;
      say(`${n.name}: FRR started (zebra, ${router.daemons.join(', ')})`);
    }),
  );
  saveMeta();
  const prNodes = topo.nodes.filter((n) => n.role === 'podroute' && !skip.has('podroute'));
  await Promise.all(
    prNodes.map(async (n) => {
      const node = await startPodroute(running.namespaces.get(n.name)!, {
        config: n.podrouteConfig!,
        ...(opts.podrouteBin ? { bin: opts.podrouteBin } : {}),
      });
      running.podroute.set(n.name, node);
      running.nodes.find((m) => m.name === n.name)!.socket = node.socketPath;
      saveMeta();
      say(`${n.name}: podroute running (socket ${node.socketPath})`);
    }),
  );
  for (const n of topo.nodes) {
    if (skip.has(n.role) && n.role !== 'linux') say(`${n.name}: ${n.role} not started (skipped)`);
  }
  saveMeta();
  return running;
}
