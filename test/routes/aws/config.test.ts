/** The `aws:` configuration section: defaults, and bad values refused as `key: value rule`. */
import t from 'tap';
import { ConfigError, validateConfig } from '../../../src/config/index.js';

const problems = (aws: unknown): readonly string[] => {
  try {
    validateConfig({ aws });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};

t.test('defaults', async (t) => {
  t.same(validateConfig({ aws: {} }).aws, {
    budget: 50,
    routeLimit: 50,
    allowCrossZone: false,
    interval: 30,
    leaderTtl: 15,
  });
  t.equal(validateConfig({}).aws, undefined, 'section optional');
  t.match(
    validateConfig({ aws: { region: 'eu-west-1', vpcId: 'vpc-0abc', budget: 200, routeLimit: 1000 } }).aws,
    {
      region: 'eu-west-1',
      vpcId: 'vpc-0abc',
      budget: 200,
    },
  );
});

t.test('bad values', async (t) => {
  t.same(problems({ budget: 2000 }), ['aws.budget: 2000 is not a number of routes in 0..1000']);
  t.same(problems({ budget: 60 }), ['aws.budget: 60 is more than routeLimit (50): a table cannot hold it']);
  t.same(problems({ region: 'Ireland' }), ['aws.region: "Ireland" is not a region name (like eu-west-1)']);
  t.same(problems({ vpcId: 'vpc1' }), ['aws.vpcId: "vpc1" is not a VPC id (vpc-…)']);
  t.same(problems({ endpoint: 'not a url' }), ['aws.endpoint: "not a url" is not a URL']);
  t.same(problems({ interval: 1 }), ['aws.interval: 1 is not a number of seconds in 5..3600']);
  t.same(problems({ budgets: 5 }), ['aws.budgets: is not a known key']);
});
