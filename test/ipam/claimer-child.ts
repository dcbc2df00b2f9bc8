/**
 * A separate process that claims blocks as fast as it can, for the store conformance suite: the
 * parent SIGKILLs it at a random moment (possibly holding the file lock, or mid etcd transaction)
 * and then checks that nothing it reported was lost and nothing is corrupt.
 *
 * argv: <file|etcd> <path | endpoint,...> <etcd prefix> <node> <first block index> <count>
 * stdout: "ready", then "ok <block>" per successful claim.
 */
import { randomBytes } from 'node:crypto';
import { EtcdBlockStore } from '../../src/ipam/store/etcd.js';
import { FileBlockStore } from '../../src/ipam/store/file.js';
import type { BlockStore } from '../../src/ipam/store/types.js';
import { silentLogger } from '../../src/lib/log.js';
import { blockName } from './store-helpers.js';

const [kind, target, prefix, node, first, count] = process.argv.slice(2);
const store: BlockStore =
  kind === 'file'
    ? new FileBlockStore(target!)
    : new EtcdBlockStore({
        hosts: target!.split(','),
        prefix: prefix!,
        leaseTtl: 5,
        dialTimeoutMs: 2000,
        logger: silentLogger,
      });

await store.register(node!);
process.stdout.write('ready\n');
const start = Number(first);
for (let i = start; i < start + Number(count); i++) {
  const block = blockName(i);
  const r = await store.claim({
    block,
    node: node!,
    group: 'g',
    network: 'pods',
    claimId: randomBytes(4).toString('hex'),
  });
  if (r.ok) process.stdout.write(`ok ${block}\n`);
}
process.stdout.write('done\n');
await store.close();
