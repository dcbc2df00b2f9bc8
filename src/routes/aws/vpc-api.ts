/**
 * The EC2 calls the VPC route controller makes, behind a narrow interface (the controller and its
 * tests see these shapes, never the SDK's), and their implementation on the official AWS SDK v3
 * EC2 client. Reads: DescribeRouteTables, DescribeInstances, DescribeInstanceStatus. Writes:
 * CreateRoute, ReplaceRoute, DeleteRoute (targets are ENIs, which pins the route to the interface
 * that carries pod traffic) and ModifyNetworkInterfaceAttribute SourceDestCheck=false (an ENI
 * drops packets not addressed to it unless the check is off, and every route target receives
 * pod traffic).
 *
 * The SDK's own retries are off (maxAttempts 1): backoff.ts retries with the controller's clock,
 * so throttling storms are visible, counted and testable without waiting.
 */
import {
  CreateRouteCommand,
  DeleteRouteCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  type Filter,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceRouteCommand,
} from '@aws-sdk/client-ec2';

export interface VpcRoute {
  readonly destination: string;
  readonly eniId?: string | undefined;
  readonly instanceId?: string | undefined;
  /** Anything else that is a target (gateway "local", a NAT or transit gateway): never ours. */
  readonly otherTarget?: string | undefined;
  /** `active`, or `blackhole` when the target is gone. */
  readonly state: string;
}

export interface VpcRouteTable {
  readonly id: string;
  readonly vpcId: string;
  readonly main: boolean;
  readonly subnets: readonly string[];
  readonly routes: readonly VpcRoute[];
}

export interface VpcEni {
  readonly eniId: string;
  readonly subnet: string;
  readonly addresses: readonly string[];
  readonly sourceDestCheck: boolean;
  readonly deviceIndex: number;
}

export interface VpcInstance {
  readonly instanceId: string;
  readonly vpcId: string;
  readonly zone: string;
  /** pending | running | shutting-down | terminated | stopping | stopped */
  readonly state: string;
  readonly enis: readonly VpcEni[];
}

export interface InstanceHealth {
  readonly instanceId: string;
  readonly state: string;
  /** Running, and neither the instance nor the system status check reports `impaired`. */
  readonly ok: boolean;
}

export interface VpcApi {
  /** Route tables of the VPC associated with these subnets, the VPC's main table, and these tables. */
  routeTables(
    vpcId: string,
    subnets: readonly string[],
    tableIds?: readonly string[],
  ): Promise<VpcRouteTable[]>;
  /** Instances with an ENI holding one of these private addresses. */
  instancesByAddress(addresses: readonly string[]): Promise<VpcInstance[]>;
  instanceHealth(instanceIds: readonly string[]): Promise<InstanceHealth[]>;
  createRoute(table: string, destination: string, eniId: string): Promise<void>;
  replaceRoute(table: string, destination: string, eniId: string): Promise<void>;
  deleteRoute(table: string, destination: string): Promise<void>;
  disableSourceDestCheck(eniId: string): Promise<void>;
}

export interface Ec2ApiOptions {
  region: string;
  /** An EC2-compatible endpoint (VPC endpoint, test server); default: the region's. */
  endpoint?: string | undefined;
  /** Static credentials (tests); default: the SDK's chain (environment, instance profile). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** AWS accepts at most 200 values per filter. */
const FILTER_VALUES = 200;

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export class Ec2VpcApi implements VpcApi {
  private readonly client: EC2Client;

  constructor(opts: Ec2ApiOptions) {
    this.client = new EC2Client({
      region: opts.region,
      maxAttempts: 1,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
  }

  async routeTables(
    vpcId: string,
    subnets: readonly string[],
    tableIds: readonly string[] = [],
  ): Promise<VpcRouteTable[]> {
    const byId = new Map<string, VpcRouteTable>();
    const query = async (filters: Filter[]): Promise<void> => {
      let token: string | undefined;
      do {
        const r = await this.client.send(
          new DescribeRouteTablesCommand({ Filters: filters, NextToken: token }),
        );
        for (const t of r.RouteTables ?? []) {
          if (!t.RouteTableId) continue;
          byId.set(t.RouteTableId, {
            id: t.RouteTableId,
            vpcId: t.VpcId ?? vpcId,
            main: (t.Associations ?? []).some((a) => a.Main === true),
            subnets: (t.Associations ?? []).flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
            routes: (t.Routes ?? []).flatMap((x) =>
              x.DestinationCidrBlock
                ? [
                    {
                      destination: x.DestinationCidrBlock,
                      eniId: x.NetworkInterfaceId,
                      instanceId: x.InstanceId,
                      otherTarget:
                        x.GatewayId ?? x.NatGatewayId ?? x.TransitGatewayId ?? x.VpcPeeringConnectionId,
                      state: x.State ?? 'active',
                    },
                  ]
                : [],
            ),
          });
        }
        token = r.NextToken;
      } while (token);
    };
    const vpc = { Name: 'vpc-id', Values: [vpcId] };
    for (const part of chunks(subnets, FILTER_VALUES))
      await query([vpc, { Name: 'association.subnet-id', Values: part }]);
    await query([vpc, { Name: 'association.main', Values: ['true'] }]);
    for (const part of chunks(tableIds, FILTER_VALUES))
      await query([vpc, { Name: 'route-table-id', Values: part }]);
    return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async instancesByAddress(addresses: readonly string[]): Promise<VpcInstance[]> {
    const out = new Map<string, VpcInstance>();
    for (const part of chunks(addresses, FILTER_VALUES)) {
      let token: string | undefined;
      do {
        const r = await this.client.send(
          new DescribeInstancesCommand({
            Filters: [{ Name: 'network-interface.addresses.private-ip-address', Values: part }],
            NextToken: token,
          }),
        );
        for (const res of r.Reservations ?? []) {
          for (const i of res.Instances ?? []) {
            if (!i.InstanceId) continue;
            out.set(i.InstanceId, {
              instanceId: i.InstanceId,
              vpcId: i.VpcId ?? '',
              zone: i.Placement?.AvailabilityZone ?? '',
              state: i.State?.Name ?? 'unknown',
              enis: (i.NetworkInterfaces ?? []).flatMap((n) =>
                n.NetworkInterfaceId
                  ? [
                      {
                        eniId: n.NetworkInterfaceId,
                        subnet: n.SubnetId ?? '',
                        addresses: (n.PrivateIpAddresses ?? []).flatMap((a) =>
                          a.PrivateIpAddress ? [a.PrivateIpAddress] : [],
                        ),
                        sourceDestCheck: n.SourceDestCheck !== false,
                        deviceIndex: n.Attachment?.DeviceIndex ?? 0,
                      },
                    ]
                  : [],
              ),
            });
          }
        }
        token = r.NextToken;
      } while (token);
    }
    return [...out.values()];
  }

  async instanceHealth(instanceIds: readonly string[]): Promise<InstanceHealth[]> {
    const out: InstanceHealth[] = [];
    // DescribeInstanceStatus takes at most 100 ids per call.
    for (const part of chunks(instanceIds, 100)) {
      let token: string | undefined;
      do {
        const r = await this.client.send(
          new DescribeInstanceStatusCommand({
            InstanceIds: part,
            IncludeAllInstances: true,
            NextToken: token,
          }),
        );
        for (const s of r.InstanceStatuses ?? []) {
          if (!s.InstanceId) continue;
          const state = s.InstanceState?.Name ?? 'unknown';
          const impaired = s.InstanceStatus?.Status === 'impaired' || s.SystemStatus?.Status === 'impaired';
          out.push({ instanceId: s.InstanceId, state, ok: state === 'running' && !impaired });
        }
        token = r.NextToken;
      } while (token);
    }
    return out;
  }

  async createRoute(table: string, destination: string, eniId: string): Promise<void> {
    await this.client.send(
      new CreateRouteCommand({
        RouteTableId: table,
        DestinationCidrBlock: destination,
        NetworkInterfaceId: eniId,
      }),
    );
  }

  async replaceRoute(table: string, destination: string, eniId: string): Promise<void> {
    await this.client.send(
      new ReplaceRouteCommand({
        RouteTableId: table,
        DestinationCidrBlock: destination,
        NetworkInterfaceId: eniId,
      }),
    );
  }

  async deleteRoute(table: string, destination: string): Promise<void> {
    await this.client.send(
      new DeleteRouteCommand({ RouteTableId: table, DestinationCidrBlock: destination }),
    );
  }

  async disableSourceDestCheck(eniId: string): Promise<void> {
    await this.client.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: eniId,
        SourceDestCheck: { Value: false },
      }),
    );
  }

  close(): void {
    this.client.destroy();
  }
}

/** The EC2 error code of a failed call (`RouteLimitExceeded`, …), or undefined for other errors. */
export function ec2ErrorCode(e: unknown): string | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const o = e as { name?: unknown; Code?: unknown; $metadata?: unknown };
  if (typeof o.Code === 'string') return o.Code;
  if (o.$metadata !== undefined && typeof o.name === 'string') return o.name;
  return undefined;
}

/** The HTTP status of a failed call, when the service answered. */
export function httpStatus(e: unknown): number | undefined {
  const m = (e as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof m?.httpStatusCode === 'number' ? m.httpStatusCode : undefined;
}
