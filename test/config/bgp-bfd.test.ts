/** Validation of a BGP peer's `bfd` key: `true`, `false`, or `{ minRx, minTx, multiplier }` in ms. */
import t from 'tap';
import { ConfigError, parseConfig } from '../../src/config/index.js';

function yaml(bfd: string): string {
  return `bgp:\n  asn: 65001\n  peers:\n    - { address: 198.18.0.1, asn: 65000, bfd: ${bfd} }\n`;
}

function problems(bfd: string): readonly string[] {
  try {
    parseConfig(yaml(bfd));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const bfdOf = (bfd: string) => parseConfig(yaml(bfd)).bgp?.peers[0]?.bfd;

t.test('accepted values and what they become', async (t) => {
  t.same(bfdOf('true'), { minRx: 300, minTx: 300, multiplier: 3 }, 'true: 300/300/3');
  t.equal(bfdOf('false'), undefined, 'false: no BFD');
  t.equal(
    parseConfig('bgp:\n  asn: 65001\n  peers:\n    - { address: 198.18.0.1, asn: 65000 }\n').bgp?.peers[0]
      ?.bfd,
    undefined,
    'absent: no BFD',
  );
  t.same(bfdOf('{ minRx: 100, minTx: 100, multiplier: 3 }'), { minRx: 100, minTx: 100, multiplier: 3 });
  t.same(bfdOf('{ minTx: 50 }'), { minRx: 300, minTx: 50, multiplier: 3 }, 'missing keys take the defaults');
  t.same(
    bfdOf('{ minRx: 10, minTx: 60000, multiplier: 255 }'),
    { minRx: 10, minTx: 60000, multiplier: 255 },
    'bounds',
  );
});

const cases: [string, string, string][] = [
  [
    'minRx too small',
    '{ minRx: 9 }',
    'bgp.peers[0].bfd.minRx: 9 is not a number of milliseconds in 10..60000',
  ],
  [
    'minTx too large',
    '{ minTx: 60001 }',
    'bgp.peers[0].bfd.minTx: 60001 is not a number of milliseconds in 10..60000',
  ],
  [
    'fractional interval',
    '{ minTx: 99.5 }',
    'bgp.peers[0].bfd.minTx: 99.5 is not a number of milliseconds in 10..60000',
  ],
  [
    'multiplier 0',
    '{ multiplier: 0 }',
    'bgp.peers[0].bfd.multiplier: 0 is not a detection multiplier in 1..255',
  ],
  [
    'multiplier 256',
    '{ multiplier: 256 }',
    'bgp.peers[0].bfd.multiplier: 256 is not a detection multiplier in 1..255',
  ],
  ['unknown key', '{ interval: 100 }', 'bgp.peers[0].bfd'],
  ['a string', 'fast', 'bgp.peers[0].bfd'],
];

for (const [name, bfd, expected] of cases) {
  t.test(name, async (t) => {
    const p = problems(bfd);
    t.ok(
      p.some((x) => x.startsWith(expected)),
      `refused with "${expected}…": ${JSON.stringify(p)}`,
    );
  });
}
