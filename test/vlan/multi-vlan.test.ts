/**
 * Multi-VLAN cluster in namespaces, proven by packets. VLAN A (100) and VLAN B (200) are each one
 * layer 2 segment (a bridge: this kernel has neither 802.1Q nor bridge VLAN filtering), the hosts'
 * legs are named like the sub-interfaces (eth1.100, eth1.200), and a gateway namespace routes
 * between the VLANs and counts what it forwards (iptables FORWARD counters).
 *
 *   host1: pod a1 (VLAN A), pod b1 (VLAN B)        host2: pod a2 (VLAN A), its group has no VLAN B
 *   switch A: host1 eth1.100, host2 eth1.100, gateway .1     switch B: host1 eth1.200, gateway .1
 *
 * Pods get their addresses from bin/podroute-cni with `podroute.io/network` in CNI_ARGS or in
 * `args.cni`; the VLAN data plane (rules, a table per VLAN) comes from IPAM alone.
 */
import t from 'tap';
import { interopGate } from '../../lab/fixture/gate.js';
import { Lab, type PodrouteNode, startPodroute, waitFor } from '../../lab/fixture/index.js';
import {
  cniCall,
  cniPath,
  countForwarding,
  forwarded,
  kernelRouting,
  PTP,
  pingAll,
  resultAddress,
  VLAN_A,
  VLAN_B,
  VLAN_C,
  vlanNetwork,
} from './helpers.js';

const gate = interopGate(['ip', 'ping', 'tcpdump', 'podroute']);

t.test(
  'multi-VLAN: inside a VLAN direct, between VLANs through the gateway',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const h1 = await lab.addNamespace('h1');
    const h2 = await lab.addNamespace('h2');
    const gw = await lab.addNamespace('gw');
    const swA = await lab.addBridge('swa', [
      { ns: h1, ifname: VLAN_A.ifname, addresses: [`${VLAN_A.subnet}.251/24`] },
      { ns: h2, ifname: VLAN_A.ifname, addresses: [`${VLAN_A.subnet}.252/24`] },
      { ns: gw, ifname: 'gwa', addresses: [`${VLAN_A.subnet}.1/24`] },
    ]);
    await lab.addBridge('swb', [
      { ns: h1, ifname: VLAN_B.ifname, addresses: [`${VLAN_B.subnet}.251/24`] },
      { ns: gw, ifname: 'gwb', addresses: [`${VLAN_B.subnet}.1/24`] },
    ]);
    await countForwarding(gw);

    const ipam = (name: string, vlans = [VLAN_A, VLAN_B]) => ({
      store: `file://${lab.tmpDir}/ipam.json`,
      stateDir: lab.makeDir(`state-${name}`),
      blockGrace: 0,
      quarantine: 0,
      networks: vlans.map(vlanNetwork),
      groups: [
        { name: 'rack1', selector: { rack: '1' }, networks: vlans.map((v) => v.name) },
        { name: 'rack2', selector: { rack: '2' }, networks: [VLAN_A.name] },
      ],
    });
    const config = (name: string, rack: string, ip: string, vlans = [VLAN_A, VLAN_B]) => ({
      node: { name, routerId: ip, labels: { rack } },
      routes: { resyncInterval: 2 },
      ipam: ipam(name, vlans),
    });
    const d1 = await startPodroute(h1, { config: config('host1', '1', `${VLAN_A.subnet}.251`) });
    const d2 = await startPodroute(h2, { config: config('host2', '2', `${VLAN_A.subnet}.252`) });
    const path = cniPath(lab);

    // Pods as a runtime makes them: a netns, then ptp delegating IPAM to podroute-cni, each pod
    // asking for its VLAN the ways a runtime can (CNI_ARGS, args.cni).
    const attach = async (
      node: PodrouteNode,
      id: string,
      how: { args?: string; confArgs?: Record<string, string> },
    ) => {
      const pod = await lab.addNamespace(id, { forwarding: false });
      const r = await cniCall(path, {
        command: 'ADD',
        node,
        containerId: id,
        netns: `/var/run/netns/${pod.name}`,
        plugin: PTP,
        ...how,
      });
      t.equal(r.code, 0, `CNI ADD ${id}: ${r.stdout}${r.stderr}`);
      const ip = (JSON.parse(r.stdout) as { ips: { gateway?: string }[] }).ips[0]!;
      t.match(
        ip.gateway,
        /^198\.19\.(100|200)\.0$/,
        `${id}: gateway the range's first address, not its router`,
      );
      return { pod, ip: resultAddress(r) };
    };
    const { pod: a1, ip: a1ip } = await attach(d1, 'a1', {
      args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=a1;podroute.io/network=vlan-a',
    });
    const { pod: b1, ip: b1ip } = await attach(d1, 'b1', { confArgs: { 'podroute.io/network': 'vlan-b' } });
    const { pod: a2, ip: a2ip } = await attach(d2, 'a2', { args: 'podroute.io/network=vlan-a' });
    const local = (await h1.ip(['-4', 'addr'])).stdout;
    t.notMatch(local, /198\.19\.(100|200)\.1\//, "host1 never holds a VLAN router's address");
    t.match(a1ip, /^198\.19\.100\./, 'a1 is in VLAN A');
    t.match(b1ip, /^198\.19\.200\./, 'b1 is in VLAN B');
    t.match(a2ip, /^198\.19\.100\./, 'a2 is in VLAN A');

    await t.test(
      'a network the node cannot serve is a CNI error naming it, never another network',
      async (t) => {
        const pod = await lab.addNamespace('err', { forwarding: false });
        const netns = `/var/run/netns/${pod.name}`;
        const unknown = await cniCall(path, {
          command: 'ADD',
          node: d1,
          containerId: 'e1',
          netns,
          plugin: PTP,
          args: 'podroute.io/network=vlan-z',
        });
        t.not(unknown.code, 0, 'ADD of an unknown network fails');
        t.match(
          JSON.parse(unknown.stdout),
          { code: 102, msg: /network vlan-z is not defined/ },
          unknown.stdout,
        );
        const lacking = await cniCall(path, {
          command: 'ADD',
          node: d2,
          containerId: 'e2',
          netns,
          plugin: PTP,
          args: 'podroute.io/network=vlan-b',
        });
        t.not(lacking.code, 0, 'ADD of VLAN B on host2 fails');
        t.match(
          JSON.parse(lacking.stdout),
          { code: 102, msg: /network vlan-b .*group rack2/ },
          lacking.stdout,
        );
        const disagree = await cniCall(path, {
          command: 'ADD',
          node: d1,
          containerId: 'e3',
          netns,
          args: 'podroute.io/network=vlan-a',
          confArgs: { 'podroute.io/network': 'vlan-b' },
        });
        t.match(JSON.parse(disagree.stdout), {
          code: 7,
          msg: /vlan-b \(args.cni\) and vlan-a \(CNI_ARGS\) disagree/,
        });
        const show = await d2.status();
        t.notOk(
          show.vlans?.some((v) => v.network === VLAN_B.name),
          'host2 got nothing of VLAN B',
        );
      },
    );

    // The gateway reaches each host's blocks via the host's address on the VLAN (what it would learn
    // from the nodes in production).
    const st1 = await waitFor(
      async () => {
        const s = await d1.status();
        return s.vlans?.length === 2 && (s.routes?.rules.length ?? 0) >= 4 ? s : undefined;
      },
      { timeoutMs: 15_000, what: 'host1 VLAN rules' },
    );
    const st2 = await waitFor(
      async () => {
        const s = await d2.status();
        return s.vlans?.length === 1 && (s.routes?.rules.length ?? 0) >= 2 ? s : undefined;
      },
      { timeoutMs: 15_000, what: 'host2 VLAN rules' },
    );
    // Set again after the gateway's links come back: the kernel drops routes via a link that went down.
    const gatewayRoutes = async (): Promise<void> => {
      for (const [s, host] of [
        [st1, 251],
        [st2, 252],
      ] as const) {
        for (const v of s.vlans ?? []) {
          const subnet = v.network === VLAN_A.name ? VLAN_A.subnet : VLAN_B.subnet;
          for (const b of v.blocks) await gw.ip(['route', 'replace', b, 'via', `${subnet}.${host}`]);
        }
      }
    };
    await gatewayRoutes();

    await t.test('the kernel state on host1 comes from IPAM', async (t) => {
      const rules = (await h1.ip(['rule'])).stdout;
      t.match(rules, /900:\s+from all to 198\.19\.100\.0\/24 iif eth1\.100 lookup main proto 176/);
      t.match(rules, /901:\s+from 198\.19\.100\.0\/24 lookup 10100 proto 176/);
      t.match(rules, /901:\s+from 198\.19\.200\.0\/24 lookup 10200 proto 176/);
      const tableA = (await h1.ip(['route', 'show', 'table', '10100'])).stdout;
      t.match(tableA, /default via 198\.19\.100\.1 dev eth1\.100/);
      const a2block = st2.vlans![0]!.blocks[0]!;
      t.match(
        tableA,
        new RegExp(`${a2block.replace(/\./g, '\\.')} via 198\\.19\\.100\\.252 dev eth1\\.100`),
        'host2 block direct',
      );
      t.notMatch(tableA, /198\.19\.200\./, 'nothing of VLAN B in VLAN A’s table');
    });

    await t.test('status: VLANs, gateways, liveness, pods per VLAN', async (t) => {
      const s = await waitFor(
        async () => {
          const x = await d1.status();
          return x.vlans?.every((v) => v.gatewayAlive === true) ? x : undefined;
        },
        { timeoutMs: 20_000, what: 'gateways answer' },
      );
      t.match(s.vlans, [
        {
          network: 'vlan-a',
          vlan: 100,
          interface: 'eth1.100',
          gateway: '198.19.100.1',
          table: 10100,
          pods: 1,
        },
        {
          network: 'vlan-b',
          vlan: 200,
          interface: 'eth1.200',
          gateway: '198.19.200.1',
          table: 10200,
          pods: 1,
        },
      ]);
    });

    await t.test('A to A across hosts does not touch the gateway', async (t) => {
      const before = await forwarded(gw);
      t.ok(await pingAll(a1, a2ip, 5), 'a1 pings a2');
      t.ok(await pingAll(a2, a1ip, 5), 'a2 pings a1');
      t.same(await forwarded(gw), before, 'gateway counters flat');
    });

    await t.test('A to B on the same host goes through the gateway, both ways', async (t) => {
      const before = await forwarded(gw);
      t.ok(await pingAll(a1, b1ip, 5), 'a1 pings b1');
      const after = await forwarded(gw);
      t.equal(after.aToB - before.aToB, 5, 'five requests forwarded A to B');
      t.equal(after.bToA - before.bToA, 5, 'five replies forwarded B to A');
    });

    await t.test('A to B across hosts goes through the gateway, both ways', async (t) => {
      const before = await forwarded(gw);
      t.ok(await pingAll(a2, b1ip, 4), 'a2 pings b1');
      t.ok(await pingAll(b1, a2ip, 3), 'b1 pings a2');
      const after = await forwarded(gw);
      t.equal(after.aToB - before.aToB, 7, 'A to B: a2 requests, a2 replies');
      t.equal(after.bToA - before.bToA, 7, 'B to A: b1 replies, b1 requests');
    });

    await t.test('VLAN A’s segment sees VLAN B addresses from host1 only through the gateway', async (t) => {
      const gwMac = (await gw.exec('cat', ['/sys/class/net/gwa/address'])).stdout.trim();
      const h1Mac = (await h1.exec('cat', [`/sys/class/net/${VLAN_A.ifname}/address`])).stdout.trim();
      const capture = swA.ns.exec(
        'timeout',
        ['5', 'tcpdump', '-l', '-e', '-n', '-i', 'br0', 'ip', 'and', 'net', `${VLAN_B.subnet}.0/24`],
        { allowFail: true },
      );
      await new Promise((r) => setTimeout(r, 1500));
      t.ok(await pingAll(a1, b1ip, 3), 'a1 pings b1 during the capture');
      t.ok(await pingAll(b1, a1ip, 3), 'b1 pings a1 during the capture');
      const lines = (await capture).stdout.split('\n').filter((l) => l.includes(' > '));
      t.ok(
        lines.length >= 6,
        `VLAN B traffic on segment A between host1 and the gateway (${lines.length} packets)`,
      );
      const bad = lines.filter((l) => {
        const [src, , dst] = l.split(' ').slice(1, 4);
        return (
          !(src === gwMac && dst?.replace(/,$/, '') === h1Mac) &&
          !(src === h1Mac && dst?.replace(/,$/, '') === gwMac)
        );
      });
      t.same(bad, [], 'every VLAN B packet on segment A is between host1 and the gateway');
    });

    await t.test('gateway down: A to B fails, A to A keeps working', async (t) => {
      await gw.setLink('gwa', 'down');
      await gw.setLink('gwb', 'down');
      t.notOk(await pingAll(a1, b1ip, 2), 'a1 cannot reach b1');
      t.notOk(await pingAll(a2, b1ip, 2), 'a2 cannot reach b1');
      t.ok(await pingAll(a1, a2ip, 3), 'a1 still reaches a2');
      const s = await waitFor(
        async () => {
          const x = await d1.status();
          return x.vlans?.every((v) => v.gatewayAlive === false) ? x : undefined;
        },
        { timeoutMs: 30_000, what: 'status says the gateways are down' },
      );
      t.ok(s.vlans?.length === 2, 'both VLANs report their gateway down');
      await gw.setLink('gwa', 'up');
      await gw.setLink('gwb', 'up');
      await gatewayRoutes();
      t.ok(await waitFor(() => pingAll(a1, b1ip, 1), { timeoutMs: 15_000, what: 'a1 reaches b1 again' }));
    });

    await t.test(
      'adding a VLAN network brings its rules and table up; removing it removes exactly those',
      async (t) => {
        await lab.addLink(
          { ns: h1, ifname: VLAN_C.ifname, addresses: [`${VLAN_C.subnet}.251/24`] },
          {
            ns: gw,
            ifname: 'gwc',
            addresses: [`${VLAN_C.subnet}.1/24`],
          },
        );
        const settled = async (): Promise<{ rules: string[]; routes: string[] }> => {
          await d1.waitReady();
          return waitFor(
            async () => {
              const a = await kernelRouting(h1);
              await new Promise((r) => setTimeout(r, 2500));
              const b = await kernelRouting(h1);
              return JSON.stringify(a) === JSON.stringify(b) ? b : undefined;
            },
            { timeoutMs: 30_000, what: 'host1 kernel routing settles' },
          );
        };
        const before = await settled();
        d1.setConfig(config('host1', '1', `${VLAN_A.subnet}.251`, [VLAN_A, VLAN_B, VLAN_C]));
        await d1.restart();
        const c1 = await cniCall(path, {
          command: 'ADD',
          node: d1,
          containerId: 'c1',
          netns: '/var/run/netns/none-c1',
          args: 'podroute.io/network=vlan-c',
        });
        t.equal(c1.code, 0, `CNI ADD in VLAN C: ${c1.stdout}`);
        const up = await waitFor(
          async () => {
            const k = await kernelRouting(h1);
            return k.rules.some((l) => l.includes('lookup 10300')) &&
              k.routes.some((l) => l.includes('table 10300'))
              ? k
              : undefined;
          },
          { timeoutMs: 15_000, what: 'VLAN C rules and table' },
        );
        t.ok(
          up.rules.some((l) => /901:\s+from 198\.19\.130\.0\/24 lookup 10300/.test(l)),
          'VLAN C source rule',
        );
        t.ok(
          up.rules.some((l) => /900:\s+from all to 198\.19\.130\.0\/24 iif eth1\.300 lookup main/.test(l)),
          'VLAN C delivery rule',
        );
        const added = up.rules.filter((l) => !before.rules.includes(l));
        t.equal(added.length, 2, `exactly two rules added: ${added.join(' | ')}`);
        t.same(
          before.rules.filter((l) => !up.rules.includes(l)),
          [],
          'no rule went away',
        );
        const del = await cniCall(path, {
          command: 'DEL',
          node: d1,
          containerId: 'c1',
          netns: '/var/run/netns/none-c1',
        });
        t.equal(del.code, 0, 'CNI DEL in VLAN C');
        await waitFor(async () => ((await d1.status()).vlans?.length === 2 ? true : undefined), {
          timeoutMs: 15_000,
          what: 'the VLAN C block went back (blockGrace 0)',
        });
        d1.setConfig(config('host1', '1', `${VLAN_A.subnet}.251`));
        await d1.restart();
        const after = await settled();
        t.same(after.rules, before.rules, 'ip rule as before VLAN C');
        t.same(after.routes, before.routes, 'ip route show table all as before VLAN C');
      },
    );
  },
);
