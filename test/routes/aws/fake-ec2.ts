/**
 * A local EC2-compatible endpoint for the VPC route controller tests. This is NOT EC2: it is a
 * small HTTP server on loopback that follows the documented EC2 Query API (form-encoded
 * `Action=…&Version=2016-11-15` POSTs, XML answers in the 2016-11-15 namespace, errors as
 * `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`) for the
 * calls podroute makes: DescribeRouteTables, DescribeInstances, DescribeInstanceStatus,
 * CreateRoute, ReplaceRoute, DeleteRoute, ModifyNetworkInterfaceAttribute. The real SDK talks to
 * it. It enforces a per-table route limit (RouteLimitExceeded), answers RequestLimitExceeded (503)
 * or InternalError (500) on demand, keeps instance states and status checks, marks routes to a
 * stopped instance `blackhole` as EC2 does, and can hold a mutating call unanswered (to kill a
 * client in the middle of an apply).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeInstance {
  instanceId: string;
  vpcId: string;
  zone: string;
  subnet: string;
  eniId: string;
  address: string;
  state: 'running' | 'stopped' | 'pending' | 'terminated';
  impaired: boolean;
  sourceDestCheck: boolean;
}

export interface FakeRoute {
  eniId?: string;
  instanceId?: string;
  gatewayId?: string;
}

export interface FakeTable {
  id: string;
  vpcId: string;
  main: boolean;
  subnets: string[];
  routes: Map<string, FakeRoute>;
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const MUTATING = new Set(['CreateRoute', 'ReplaceRoute', 'DeleteRoute', 'ModifyNetworkInterfaceAttribute']);
const STATE_CODE: Record<FakeInstance['state'], number> = {
  pending: 0,
  running: 16,
  terminated: 48,
  stopped: 80,
};

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const el = (name: string, body: string | number | boolean): string =>
  `<${name}>${typeof body === 'string' && !body.startsWith('<') ? esc(body) : String(body)}</${name}>`;
const items = (name: string, xs: readonly string[]): string =>
  `<${name}>${xs.map((x) => `<item>${x}</item>`).join('')}</${name}>`;

class Ec2Fault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class FakeEc2 {
  readonly instances = new Map<string, FakeInstance>();
  readonly tables = new Map<string, FakeTable>();
  /** Routes per table, the `local` route included, as EC2 counts. */
  routeLimit = 50;
  /** The next N requests are throttled (RequestLimitExceeded, HTTP 503). */
  throttle = 0;
  /** The next N requests fail with InternalError (HTTP 500). */
  serverErrors = 0;
  /** Every request: action and parameters. */
  readonly calls: { action: string; params: Map<string, string> }[] = [];
  /** Hold (never answer) the mutating call after this many have been answered; then call onHeld. */
  hold: { after: number; onHeld: () => void } | undefined;
  private answeredMutations = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  addVpc(vpcId: string, cidr: string): FakeTable {
    const t: FakeTable = {
      id: `rtb-${randomBytes(4).toString('hex')}`,
      vpcId,
      main: true,
      subnets: [],
      routes: new Map([[cidr, { gatewayId: 'local' }]]),
    };
    this.tables.set(t.id, t);
    return t;
  }

  addTable(vpcId: string, cidr: string, subnets: string[]): FakeTable {
    const t = { ...this.addVpc(vpcId, cidr), main: false, subnets };
    this.tables.set(t.id, t);
    return t;
  }

  addInstance(i: Omit<FakeInstance, 'state' | 'impaired' | 'sourceDestCheck'>): FakeInstance {
    const full: FakeInstance = { ...i, state: 'running', impaired: false, sourceDestCheck: true };
    this.instances.set(i.instanceId, full);
    return full;
  }

  /** Mutating calls since `since` (an index into `calls`). */
  mutations(since = 0): string[] {
    return this.calls.slice(since).flatMap((c) => (MUTATING.has(c.action) ? [c.action] : []));
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const params = new Map(new URLSearchParams(Buffer.concat(chunks).toString()));
    const action = params.get('Action') ?? '';
    this.calls.push({ action, params });
    const reqId = randomBytes(8).toString('hex');
    const send = (status: number, xml: string): void => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
    };
    const fault = (f: Ec2Fault): void =>
      send(
        f.status,
        `<Response><Errors><Error>${el('Code', f.code)}${el('Message', f.message)}</Error></Errors>${el('RequestID', reqId)}</Response>`,
      );
    if (this.throttle > 0) {
      this.throttle--;
      return fault(new Ec2Fault('RequestLimitExceeded', 'Request limit exceeded.', 503));
    }
    if (this.serverErrors > 0) {
      this.serverErrors--;
      return fault(new Ec2Fault('InternalError', 'An internal error has occurred.', 500));
    }
    if (MUTATING.has(action) && this.hold && this.answeredMutations >= this.hold.after) {
      const h = this.hold;
      this.hold = undefined;
      h.onHeld();
      return; // never answered
    }
    try {
      const body = this.dispatch(action, params);
      if (MUTATING.has(action)) this.answeredMutations++;
      send(200, `<${action}Response xmlns="${NS}">${el('requestId', reqId)}${body}</${action}Response>`);
    } catch (e) {
      if (e instanceof Ec2Fault) fault(e);
      else fault(new Ec2Fault('InternalError', (e as Error).message, 500));
    }
  }

  private dispatch(action: string, p: Map<string, string>): string {
    switch (action) {
      case 'DescribeRouteTables':
        return this.describeRouteTables(p);
      case 'DescribeInstances':
        return this.describeInstances(p);
      case 'DescribeInstanceStatus':
        return this.describeInstanceStatus(p);
      case 'CreateRoute':
      case 'ReplaceRoute':
        return this.putRoute(action, p);
      case 'DeleteRoute': {
        const t = this.table(p);
        const dest = need(p, 'DestinationCidrBlock');
        if (!t.routes.has(dest))
          throw new Ec2Fault(
            'InvalidRoute.NotFound',
            `no route with destination-cidr-block ${dest} in route table ${t.id}`,
          );
        t.routes.delete(dest);
        return el('return', true);
      }
      case 'ModifyNetworkInterfaceAttribute': {
        const eni = need(p, 'NetworkInterfaceId');
        const inst = [...this.instances.values()].find((i) => i.eniId === eni);
        if (!inst)
          throw new Ec2Fault(
            'InvalidNetworkInterfaceID.NotFound',
            `The networkInterface ID '${eni}' does not exist`,
          );
        const v = p.get('SourceDestCheck.Value');
        if (v !== undefined) inst.sourceDestCheck = v === 'true';
        return el('return', true);
      }
      default:
        throw new Ec2Fault('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private table(p: Map<string, string>): FakeTable {
    const id = need(p, 'RouteTableId');
    const t = this.tables.get(id);
    if (!t) throw new Ec2Fault('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
    return t;
  }

  private putRoute(action: string, p: Map<string, string>): string {
    const t = this.table(p);
    const dest = need(p, 'DestinationCidrBlock');
    const eni = need(p, 'NetworkInterfaceId');
    const inst = [...this.instances.values()].find((i) => i.eniId === eni);
    if (!inst)
      throw new Ec2Fault(
        'InvalidNetworkInterfaceID.NotFound',
        `The networkInterface ID '${eni}' does not exist`,
      );
    if (action === 'CreateRoute') {
      if (t.routes.has(dest))
        throw new Ec2Fault('RouteAlreadyExists', `The route identified by ${dest} already exists.`);
      if (t.routes.size >= this.routeLimit)
        throw new Ec2Fault(
          'RouteLimitExceeded',
          `The maximum number of routes has been reached for ${t.id}.`,
        );
    } else if (!t.routes.has(dest)) {
      throw new Ec2Fault(
        'InvalidRoute.NotFound',
        `no route with destination-cidr-block ${dest} in route table ${t.id}`,
      );
    }
    t.routes.set(dest, { eniId: eni, instanceId: inst.instanceId });
    return el('return', true);
  }

  private describeRouteTables(p: Map<string, string>): string {
    const filters = parseFilters(p);
    const tables = [...this.tables.values()].filter((t) =>
      filters.every(([name, values]) => {
        if (name === 'vpc-id') return values.includes(t.vpcId);
        if (name === 'association.subnet-id') return t.subnets.some((s) => values.includes(s));
        if (name === 'association.main') return values.includes(String(t.main));
        if (name === 'route-table-id') return values.includes(t.id);
        throw new Ec2Fault('InvalidParameterValue', `The filter '${name}' is invalid`);
      }),
    );
    const xml = tables.map((t) => {
      const routes = [...t.routes.entries()].map(([dest, r]) => {
        const inst = r.instanceId ? this.instances.get(r.instanceId) : undefined;
        const state = r.gatewayId || inst?.state === 'running' ? 'active' : 'blackhole';
        return (
          el('destinationCidrBlock', dest) +
          (r.gatewayId ? el('gatewayId', r.gatewayId) : '') +
          (r.instanceId ? el('instanceId', r.instanceId) + el('instanceOwnerId', '123456789012') : '') +
          (r.eniId ? el('networkInterfaceId', r.eniId) : '') +
          el('state', state) +
          el('origin', r.gatewayId === 'local' ? 'CreateRouteTable' : 'CreateRoute')
        );
      });
      const assoc = [
        ...(t.main
          ? [
              el('routeTableAssociationId', `rtbassoc-${t.id.slice(4)}`) +
                el('routeTableId', t.id) +
                el('main', true),
            ]
          : []),
        ...t.subnets.map(
          (s) =>
            el('routeTableAssociationId', `rtbassoc-${s.slice(7)}`) +
            el('routeTableId', t.id) +
            el('subnetId', s) +
            el('main', false),
        ),
      ];
      return (
        el('routeTableId', t.id) +
        el('vpcId', t.vpcId) +
        el('ownerId', '123456789012') +
        items('routeSet', routes) +
        items('associationSet', assoc) +
        '<tagSet/>'
      );
    });
    return items('routeTableSet', xml);
  }

  private describeInstances(p: Map<string, string>): string {
    const filters = parseFilters(p);
    const list = [...this.instances.values()].filter((i) =>
      filters.every(([name, values]) => {
        if (name === 'network-interface.addresses.private-ip-address' || name === 'private-ip-address')
          return values.includes(i.address);
        if (name === 'vpc-id') return values.includes(i.vpcId);
        throw new Ec2Fault('InvalidParameterValue', `The filter '${name}' is invalid`);
      }),
    );
    const xml = list.map((i) => {
      const eni =
        el('networkInterfaceId', i.eniId) +
        el('subnetId', i.subnet) +
        el('vpcId', i.vpcId) +
        el('privateIpAddress', i.address) +
        el('sourceDestCheck', i.sourceDestCheck) +
        el('attachment', el('deviceIndex', 0) + el('status', 'attached')) +
        items('privateIpAddressesSet', [el('privateIpAddress', i.address) + el('primary', true)]);
      const inst =
        el('instanceId', i.instanceId) +
        el('instanceState', el('code', STATE_CODE[i.state]) + el('name', i.state)) +
        el('placement', el('availabilityZone', i.zone)) +
        el('subnetId', i.subnet) +
        el('vpcId', i.vpcId) +
        el('privateIpAddress', i.address) +
        el('sourceDestCheck', i.sourceDestCheck) +
        items('networkInterfaceSet', [eni]);
      return (
        el('reservationId', `r-${i.instanceId.slice(2)}`) +
        el('ownerId', '123456789012') +
        items('instancesSet', [inst])
      );
    });
    return items('reservationSet', xml);
  }

  private describeInstanceStatus(p: Map<string, string>): string {
    const ids = listParam(p, 'InstanceId');
    const all = p.get('IncludeAllInstances') === 'true';
    const xml: string[] = [];
    for (const id of ids) {
      const i = this.instances.get(id);
      if (!i) throw new Ec2Fault('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      if (i.state !== 'running' && !all) continue;
      const check = i.state !== 'running' ? 'not-applicable' : i.impaired ? 'impaired' : 'ok';
      xml.push(
        el('instanceId', i.instanceId) +
          el('availabilityZone', i.zone) +
          el('instanceState', el('code', STATE_CODE[i.state]) + el('name', i.state)) +
          el('systemStatus', el('status', 'ok')) +
          el('instanceStatus', el('status', check)),
      );
    }
    return items('instanceStatusSet', xml);
  }
}

function need(p: Map<string, string>, key: string): string {
  const v = p.get(key);
  if (v === undefined)
    throw new Ec2Fault('MissingParameter', `The request must contain the parameter ${key}`);
  return v;
}

function listParam(p: Map<string, string>, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${prefix}.${i}`); i++) out.push(p.get(`${prefix}.${i}`)!);
  return out;
}

function parseFilters(p: Map<string, string>): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (let i = 1; p.has(`Filter.${i}.Name`); i++)
    out.push([p.get(`Filter.${i}.Name`)!, listParam(p, `Filter.${i}.Value`)]);
  return out;
}
