/**
 * The learned-routes part of `podroute status` (table form): counts, one row per path like
 * `show ip bgp`, the kernel verdict, the note when the daemon listed only the first paths, and
 * nothing at all when no peer sent anything.
 */
import t from 'tap';
import type { RoutesStatus, StatusJson } from '../../src/api/status.js';
import { formatStatus } from '../../src/cli/format-status.js';
import type { LearnedStatus } from '../../src/routes/learned-view.js';

const routes = (learned: LearnedStatus): RoutesStatus => ({
  managed: true,
  mode: 'layer3',
  table: 254,
  protocol: 176,
  routes: [],
  rules: [],
  vlanIssues: [],
  programmed: 0,
  pending: [],
  skipped: [],
  changes: 0,
  errors: 0,
  lastError: null,
  reconciles: 1,
  lastReconcileAt: 0,
  learned,
});

const doc = (learned: LearnedStatus): StatusJson => ({
  node: 'node1',
  routerId: '198.18.0.1',
  announced: ['198.19.1.0/24'],
  routes: routes(learned),
});

const row = {
  peer: '198.18.0.0',
  nextHop: '198.18.0.0',
  asPath: '65101',
  origin: 'IGP',
} as const;

t.test('paths with their fate, and the note for the rows not listed', async (t) => {
  const text = formatStatus(
    doc({
      paths: 5,
      prefixes: 3,
      installed: 1,
      omitted: 2,
      routes: [
        {
          ...row,
          prefix: '0.0.0.0/0',
          via: '198.18.0.0 dev eth1',
          selected: 'best',
          installed: true,
          reason: null,
        },
        {
          ...row,
          prefix: '0.0.0.0/0',
          peer: '198.18.0.2',
          via: '198.18.0.2 dev eth2',
          asPath: '65102',
          selected: 'multipath',
          installed: true,
          reason: null,
        },
        {
          ...row,
          prefix: '198.19.1.0/24',
          via: null,
          asPath: '',
          selected: null,
          installed: false,
          reason: 'the node announces this prefix',
        },
      ],
    }),
  );
  const lines = text.split('\n');
  const at = lines.indexOf('Learned routes: 5 paths, 3 prefixes, 1 installed');
  t.ok(at > 0, 'the counts line');
  t.match(lines[at + 1], /^Prefix\s+Next hop\s+Peer\s+AS path\s+Best\s+Kernel$/);
  t.match(
    lines[at + 2],
    /^0\.0\.0\.0\/0\s+198\.18\.0\.0 dev eth1\s+198\.18\.0\.0\s+65101\s+best\s+installed$/,
  );
  t.match(
    lines[at + 3],
    /^0\.0\.0\.0\/0\s+198\.18\.0\.2 dev eth2\s+198\.18\.0\.2\s+65102\s+ecmp\s+installed$/,
  );
  t.match(
    lines[at + 4],
    /^198\.19\.1\.0\/24\s+198\.18\.0\.0\s+198\.18\.0\.0\s+\(local\)\s+-\s+no: the node announces/,
  );
  t.equal(lines[at + 5], '(2 more paths not listed; the counts above include them)');
});

t.test('no learned paths: no section', async (t) => {
  const text = formatStatus(doc({ paths: 0, prefixes: 0, installed: 0, omitted: 0, routes: [] }));
  t.notMatch(text, /Learned routes/);
});
