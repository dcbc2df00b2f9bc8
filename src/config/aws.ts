/**
 * The `aws:` section: VPC route tables (src/routes/aws/). Present = this node runs the VPC route
 * controller; one node of the cluster at a time (the leader, elected through the IPAM store)
 * writes the route tables. Needs an `ipam:` section: the store lists the nodes and their blocks,
 * and the pod networks bound what the controller may ever touch.
 */
import { z } from 'zod';
import { intRange } from './rules.js';

export const awsSchema = z
  .strictObject({
    /** AWS region; default: AWS_REGION / AWS_DEFAULT_REGION from the environment. */
    region: z
      .string({ error: 'is not a region name' })
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'is not a region name (like eu-west-1)' })
      .optional(),
    /** An EC2-compatible endpoint URL (VPC interface endpoint); default: the region's. */
    endpoint: z.url({ error: 'is not a URL' }).optional(),
    /** The cluster's VPC; default: the VPC of the nodes' instances. */
    vpcId: z
      .string({ error: 'is not a VPC id' })
      .regex(/^vpc-[0-9a-f]+$/, { error: 'is not a VPC id (vpc-…)' })
      .optional(),
    /** Routes per route table podroute may use. */
    budget: intRange(0, 1000, 'a number of routes').default(50),
    /** The route tables' quota (routes of every kind; AWS: 50 by default, up to 1000). */
    routeLimit: intRange(1, 1000, 'a number of routes').default(50),
    /** Let a forwarder serve nodes of several zones on a shared subnet. */
    allowCrossZone: z.boolean({ error: 'is not true or false' }).default(false),
    /** Seconds between passes (a store change also starts one). */
    interval: intRange(5, 3600, 'a number of seconds').default(30),
    /** etcd store: seconds a dead leader keeps the leadership at most. */
    leaderTtl: intRange(2, 300, 'a number of seconds').default(15),
  })
  .superRefine((v, ctx) => {
    // Only when both are in range: an out-of-range value has its own message already.
    if (v.budget > v.routeLimit && v.budget <= 1000 && v.routeLimit >= 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['budget'],
        message: `is more than routeLimit (${v.routeLimit}): a table cannot hold it`,
      });
    }
  });

export type AwsConfig = z.infer<typeof awsSchema>;
