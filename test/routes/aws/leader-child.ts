/**
 * The first leader of the "killed mid-apply" test, as its own process so it can be SIGKILLed:
 * `leader-child.ts STORE_PATH ENDPOINT` runs one controller pass over the file store's nodes.
 */
import { FileBlockStore } from '../../../src/ipam/store/file.js';
import { createLogger } from '../../../src/lib/log.js';
import { parsePrefix } from '../../../src/net/prefix.js';
import { AwsRouteController } from '../../../src/routes/aws/controller.js';
import { FileLeadership } from '../../../src/routes/aws/leader-file.js';
import { Ec2VpcApi } from '../../../src/routes/aws/vpc-api.js';
import { InstantClock, POD_NETWORK } from './env.js';

const [storePath, endpoint] = process.argv.slice(2) as [string, string];
const c = new AwsRouteController({
  store: new FileBlockStore(storePath),
  leadership: new FileLeadership(storePath, 'first'),
  api: new Ec2VpcApi({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  }),
  clock: new InstantClock(),
  random: () => 0.5,
  logger: createLogger('error'),
  networks: [parsePrefix(POD_NETWORK)],
  budget: 50,
  routeLimit: 50,
  allowCrossZone: false,
  intervalMs: 30_000,
});
await c.runPass();
process.stdout.write(`leader-child finished unexpectedly: ${JSON.stringify(c.status().lastApply)}\n`);
process.exit(1);
