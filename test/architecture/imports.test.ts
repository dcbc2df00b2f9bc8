/**
 * The architecture as a test: reads every import of src/** and lab/** (static, `import type`,
 * `export … from` and dynamic `import()`) and fails on
 *   (a) an import cycle between files of src/ or lab/, and
 *   (b) an import that goes up or sideways in the layer table below.
 * Type-only imports count: a type names a concept, and a lower layer that names a higher one's
 * concept depends on it as surely as one that calls it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The layers, lowest first. A module may import its own unit and units of a strictly lower
 * rank; units of the same rank are independent of each other. Why this order:
 *   net          prefix arithmetic: knows nothing else.
 *   lib          clock, logging, socket helpers (which read addresses with net).
 *   config       the configuration schema and its rules; the protocols read their own section.
 *   bfd, ipam,   building blocks that know no routing protocol: BFD sessions (used by the
 *   routes, k8s  speakers), address management, kernel routes, the node's Kubernetes identity.
 *   bgp, ospf,   the protocol speakers, each with its own status view type; and the VPC route
 *   routes/aws   controller, which consumes IPAM's store (nodes and their blocks) as the speakers
 *                consume its announcement, so it sits above ipam and routes.
 *   api          the local API's contract (status JSON composed from the speakers' views,
 *                request/response types, client, server plumbing): shared by both ends.
 *   cni          the CNI plugin logic (CNI SPEC.md): a client of the local API. The daemon runs
 *                it for the plugin executable (POST /cni/exec), so it sits below the daemon and
 *                must never load it.
 *   daemon       serves the local API.
 *   cli          the `podroute` command: runs the daemon or calls its API.
 *   lab          the test lab (namespaces, routers, the daemon under test): nothing in src/
 *                may import it.
 *   test, bench  the suites and benchmarks: they may use anything, nothing may use them. Only
 *                src/ and lab/ are read, so these appear here only as import targets.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['src/net'],
  ['src/lib'],
  ['src/config'],
  ['src/bfd', 'src/ipam', 'src/routes', 'src/k8s'],
  ['src/bgp', 'src/ospf', 'src/routes/aws'],
  ['src/api'],
  ['src/cni'],
  ['src/daemon'],
  ['src/cli'],
  ['lab'],
  ['test', 'bench'],
];

/**
 * Imports that break the table today, each one exact `from -> to` edge, allowed only until the
 * code moves; an entry that no longer matches an import fails the test, so it cannot outlive the
 * fix. Nothing else may be added here.
 */
const KNOWN_VIOLATIONS: readonly string[] = [];

const RANK = new Map<string, number>();
LAYERS.forEach((units, rank) => {
  for (const u of units) RANK.set(u, rank);
});

/** The unit a file belongs to: `src/<dir>` (`src/routes/aws` is its own), `lab`, `test` or `bench`. */
export function unitOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] === 'lab' || parts[0] === 'test' || parts[0] === 'bench') return parts[0];
  if (parts[1] === 'routes' && parts[2] === 'aws' && parts.length > 3) return 'src/routes/aws';
  if (parts[0] === 'src' && parts.length > 2) return `src/${parts[1]}`;
  return undefined;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...walk(rel));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Repository-relative paths of the files `file` imports from the repository (packages left out). */
export function importsOf(file: string, text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  const out: string[] = [];
  for (const ref of info.importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(file), ref.fileName)).replace(/\.js$/, '.ts');
    out.push(target.endsWith('.ts') ? target : `${target}/index.ts`);
  }
  return out;
}

export type Graph = Map<string, string[]>;

export function buildGraph(files: readonly string[], read: (f: string) => string): Graph {
  const g: Graph = new Map();
  for (const f of files) g.set(f, importsOf(f, read(f)));
  return g;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function cycles(g: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...g.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** The shortest way round one cycle of `scc`, from its first file back to it: `a -> b -> a`. */
export function cyclePath(g: Graph, scc: readonly string[]): string {
  const start = scc[0]!;
  const inside = new Set(scc);
  const from = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of g.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = from.get(u)) path.unshift(u);
        return [start, ...path].join(' -> ');
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc.join(' <-> ');
}

/** Imports that break the layer table, as `from -> to (why)`. */
export function layerViolations(g: Graph): string[] {
  const out: string[] = [];
  for (const [from, tos] of g) {
    const a = unitOf(from);
    if (a === undefined) continue;
    for (const to of tos) {
      const b = unitOf(to);
      if (b === undefined || b === a) continue;
      const ra = RANK.get(a);
      const rb = RANK.get(b);
      if (ra === undefined || rb === undefined) {
        out.push(`${from} -> ${to} (${ra === undefined ? a : b} is not in the layer table)`);
      } else if (rb > ra) out.push(`${from} -> ${to} (${a} is below ${b})`);
      else if (rb === ra) out.push(`${from} -> ${to} (${a} and ${b} are independent siblings)`);
    }
  }
  return out.sort();
}

const files = [...walk('src'), ...walk('lab')];
const graph = buildGraph(files, (f) => readFileSync(join(ROOT, f), 'utf8'));

t.test('every import of src/ and lab/ resolves to a file in the repository', async (t) => {
  const all = new Set(files);
  const missing = [...graph].flatMap(([f, tos]) =>
    tos.filter((to) => !all.has(to)).map((to) => `${f} -> ${to}`),
  );
  t.same(missing, []);
});

t.test('no import cycle in src/ or lab/', async (t) => {
  t.same(
    cycles(graph).map(
      (c) => `${cyclePath(graph, c)}${c.length > 2 ? ` (${c.length} files in the cycle)` : ''}`,
    ),
    [],
    'files that import each other, directly or through others',
  );
});

t.test('no import goes up (or sideways) in the layer table', async (t) => {
  const found = layerViolations(graph);
  const edge = (v: string): string => v.slice(0, v.indexOf(' ('));
  t.same(
    found.filter((v) => !KNOWN_VIOLATIONS.includes(edge(v))),
    [],
  );
  t.same(
    KNOWN_VIOLATIONS.filter((k) => !found.some((v) => edge(v) === k)),
    [],
    'known violations that are fixed: remove them from KNOWN_VIOLATIONS',
  );
  const units = new Set(files.map(unitOf).filter((u) => u !== undefined));
  t.same(
    [...units].filter((u) => !RANK.has(u)),
    [],
    'every folder of src/ has a place in the layer table',
  );
});

t.test('the checks themselves catch a cycle and an upward import', async (t) => {
  const fake: Record<string, string> = {
    'src/bgp/a.ts': "import { b } from './b.js';\nexport const a = 1;",
    'src/bgp/b.ts': "import type { A } from './c.js';\nexport const b = 2;",
    'src/bgp/c.ts': "export { a } from './a.js';\nconst d = await import('../daemon/x.js');",
    'src/daemon/x.ts': "import { now } from '../lib/clock.js';",
    'src/cni/y.ts': "import { x } from '../daemon/x.js';",
    'lab/z.ts': "import { h } from '../test/helpers.js';\nimport { s } from '../src/api/status.js';",
  };
  const g = buildGraph(Object.keys(fake), (f) => fake[f]!);
  t.same(cycles(g), [['src/bgp/a.ts', 'src/bgp/b.ts', 'src/bgp/c.ts']]);
  t.equal(cyclePath(g, cycles(g)[0]!), 'src/bgp/a.ts -> src/bgp/b.ts -> src/bgp/c.ts -> src/bgp/a.ts');
  t.same(layerViolations(g), [
    'lab/z.ts -> test/helpers.ts (lab is below test)',
    'src/bgp/c.ts -> src/daemon/x.ts (src/bgp is below src/daemon)',
    'src/cni/y.ts -> src/daemon/x.ts (src/cni is below src/daemon)',
  ]);
});
