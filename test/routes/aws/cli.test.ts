/**
 * `podroute aws plan` through bin/podroute (dist/: `npm run build` first): the JSON and table
 * forms, and bad input refused with exit code 2 naming key, value and rule.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const BIN = new URL('../../../bin/podroute', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'podroute-aws-plan-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const n = (name: string, zone: string, subnet: string, id: string, blocks: string[], healthy = true) => ({
  name,
  zone,
  subnet,
  instanceId: `i-${id}`,
  eniId: `eni-${id}`,
  blocks,
  healthy,
});
const input = {
  budget: 2,
  nodes: [
    n('a', 'z1', 'subnet-1', '0a', ['198.19.0.0/26']),
    n('b', 'z1', 'subnet-1', '0b', ['198.19.0.64/26']),
    n('c', 'z2', 'subnet-2', '0c', ['198.19.1.0/26']),
    n('d', 'z2', 'subnet-2', '0d', ['198.19.1.64/26'], false),
  ],
};

function run(doc: unknown, ...args: string[]) {
  const file = join(dir, `in-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return spawnSync(BIN, ['aws', 'plan', '--input', file, ...args], { encoding: 'utf8' });
}

t.test('--json: the documented output format', async (t) => {
  const r = run(input, '--json');
  t.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  t.same(
    plan.routes.map((x: { destination: string; node: string; eniId: string }) => [x.destination, x.eniId]),
    [
      ['198.19.0.0/25', plan.forwarders[0].eniId],
      ['198.19.1.0/26', 'eni-0c'],
    ],
  );
  t.match(plan.forwarders, [{ group: 'z1/subnet-1', for: [/^[ab]$/] }]);
  t.same(plan.unplanned, [{ block: '198.19.1.64/26', node: 'd', reason: 'node d is not healthy' }]);
  const more = run(input, '--json', '--budget', '10');
  t.equal(JSON.parse(more.stdout).routes.length, 3, '--budget overrides the input’s budget');
});

t.test('table form for people', async (t) => {
  const r = run(input);
  t.equal(r.status, 0);
  t.match(r.stdout, /^Routes 2\/2 {2}forwarders 1 {2}unplanned blocks 1/);
  t.match(r.stdout, /198\.19\.1\.0\/26 +c +i-0c +eni-0c +node/);
  t.match(r.stdout, /198\.19\.1\.64\/26 +d +node d is not healthy/);
});

t.test('bad input: exit 2, one line per problem with key, value and rule', async (t) => {
  const bad = {
    nodes: [{ ...n('a', 'z1', 's', '0a', ['198.19.0.1/26']), instanceId: 'x' }, n('a', 'z1', 's', '0b', [])],
    extra: 1,
  };
  const r = run(bad);
  t.equal(r.status, 2);
  t.equal(r.stdout, '');
  t.same(r.stderr.trim().split('\n').sort(), [
    'podroute aws plan: extra: is not a known key',
    'podroute aws plan: nodes[0].blocks[0]: "198.19.0.1/26" has host bits set (did you mean 198.19.0.0/26?)',
    'podroute aws plan: nodes[0].instanceId: "x" is not an instance id (i-…)',
  ]);
  const twice = run({ nodes: [n('a', 'z1', 's', '0a', []), n('a', 'z1', 's', '0b', [])] });
  t.equal(twice.status, 2);
  t.equal(twice.stderr, 'podroute aws plan: nodes[1].name: "a" is nodes[0].name too\n');
  const notJson = run('{"nodes": [');
  t.equal(notJson.status, 2);
  t.match(notJson.stderr, /is not JSON/);
  const budget = run(input, '--budget', '-1');
  t.equal(budget.status, 2);
  t.match(budget.stderr, /--budget: "-1" is not a whole number of routes \(0\.\.1000\)/);
  const missing = spawnSync(BIN, ['aws', 'plan', '--input', join(dir, 'none.json')], { encoding: 'utf8' });
  t.equal(missing.status, 2);
  t.match(missing.stderr, /--input: ".*none\.json" cannot be read \(ENOENT\)/);
});
