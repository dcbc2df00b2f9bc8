import t from 'tap';
import { parsePrefix } from '../../src/net/prefix.js';
import { describeRule, diffRules, type KernelRule, type Rule } from '../../src/routes/rule.js';

const rule = (priority: number, src: string, table: number): Rule => ({
  priority,
  src: parsePrefix(src),
  table,
});
const k = (r: Rule, protocol = 176): KernelRule => ({ ...r, protocol });

t.test('rule diff: add missing, remove unwanted, never touch foreign', async (t) => {
  const want = [rule(1000, '198.19.0.0/20', 110), rule(1001, '198.19.16.0/20', 120)];
  const have = [
    k(rule(1000, '198.19.0.0/20', 110)),
    k(rule(1000, '198.19.32.0/20', 110)),
    k(rule(1001, '198.19.16.0/20', 120), 4), // same key, but someone else's
    k(rule(500, '0.0.0.0/0', 200), 2),
  ];
  const d = diffRules(want, have, 176);
  t.same(d.add.map(describeRule), ['1001 from 198.19.16.0/20 lookup 120']);
  t.same(d.remove.map(describeRule), ['1000 from 198.19.32.0/20 lookup 110']);
});

t.test('a changed preference or table is remove plus add; duplicates of ours go', async (t) => {
  const have = [k(rule(1000, '198.19.0.0/20', 110)), k(rule(1000, '198.19.0.0/20', 110))];
  const d = diffRules([rule(1002, '198.19.0.0/20', 110)], have, 176);
  t.same(d.add.map(describeRule), ['1002 from 198.19.0.0/20 lookup 110']);
  t.equal(d.remove.length, 2);
  const same = diffRules([rule(1000, '198.19.0.0/20', 110)], have, 176);
  t.same(same.add, []);
  t.equal(same.remove.length, 1, 'one of two identical copies is removed');
  const dupWant = diffRules([rule(1, '198.19.0.0/20', 110), rule(1, '198.19.0.0/20', 110)], [], 176);
  t.equal(dupWant.add.length, 1, 'a rule wanted twice is added once');
});
