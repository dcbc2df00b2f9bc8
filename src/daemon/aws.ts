/**
 * Wires the VPC route controller (src/routes/aws/) into the daemon when `aws:` is configured:
 * the IPAM store the daemon already opened lists the nodes; the leadership lives beside it (etcd
 * lease under the store's prefix, or a lock file next to the file store); the EC2 client comes
 * from the region (config or AWS_REGION) and the SDK's credential chain (instance profile).
 * The SDK is loaded only here, only when configured.
 */
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import type { BlockStore } from '../ipam/store/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { parsePrefix } from '../net/prefix.js';
import type { AwsRouteController } from '../routes/aws/controller.js';
import type { Leadership } from '../routes/aws/leader.js';

export interface AwsRoutesHandle {
  readonly controller: AwsRouteController;
  stop(): Promise<void>;
}

export async function startAwsRoutes(opts: {
  config: Config;
  node: string;
  store: BlockStore | undefined;
  clock: Clock;
  logger: Logger;
}): Promise<AwsRoutesHandle | undefined> {
  const { config, logger } = opts;
  const aws = config.aws;
  if (!aws) return undefined;
  if (!config.ipam || !opts.store) {
    throw new Error('aws: needs an ipam section (its store lists the nodes and their blocks)');
  }
  const region = aws.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('aws.region: not set, and neither is AWS_REGION in the environment');
  const [{ AwsRouteController }, { Ec2VpcApi }] = await Promise.all([
    import('../routes/aws/controller.js'),
    import('../routes/aws/vpc-api.js'),
  ]);
  let leadership: Leadership & { close?: () => Promise<void> };
  if (opts.store.kind === 'etcd') {
    const [{ EtcdLeadership }, { etcdOptionsFromConfig }] = await Promise.all([
      import('../routes/aws/leader-etcd.js'),
      import('../ipam/store/etcd.js'),
    ]);
    const e = etcdOptionsFromConfig(config.ipam.store, config.ipam.etcd, logger);
    leadership = new EtcdLeadership(
      { hosts: e.hosts, tls: e.tls, auth: e.auth, prefix: e.prefix, ttl: aws.leaderTtl, logger },
      opts.node,
    );
  } else {
    const { FileLeadership } = await import('../routes/aws/leader-file.js');
    leadership = new FileLeadership(fileURLToPath(config.ipam.store), opts.node);
  }
  const api = new Ec2VpcApi({ region, endpoint: aws.endpoint });
  const controller = new AwsRouteController({
    store: opts.store,
    leadership,
    api,
    clock: opts.clock,
    random: Math.random,
    logger: logger.child({ component: 'aws' }),
    networks: config.ipam.networks
      .flatMap((n) => [...(n.cidr ? [n.cidr] : []), ...(n.cidrs ?? [])])
      .map((c) => parsePrefix(c)),
    budget: aws.budget,
    routeLimit: aws.routeLimit,
    allowCrossZone: aws.allowCrossZone,
    vpcId: aws.vpcId,
    intervalMs: aws.interval * 1000,
  });
  controller.start();
  return {
    controller,
    async stop() {
      await controller.stop();
      await leadership.close?.();
      api.close();
    },
  };
}
