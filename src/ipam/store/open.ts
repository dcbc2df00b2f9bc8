/**
 * Opens the block store named by `ipam.store`: `file:///path` or `etcd://` / `etcds://`.
 * The etcd client (gRPC, protobuf) is loaded only when an etcd store is configured: it costs
 * about 0.2 s and 20 MB at start, which a node with a file store should not pay.
 */
import { fileURLToPath } from 'node:url';
import type { IpamConfig } from '../../config/ipam.js';
import type { Logger } from '../../lib/log.js';
import { FileBlockStore } from './file.js';
import { type BlockStore, StoreError } from './types.js';

export async function openStore(
  cfg: Pick<IpamConfig, 'store' | 'etcd'>,
  logger: Logger,
): Promise<BlockStore> {
  if (cfg.store.startsWith('file://')) return new FileBlockStore(fileURLToPath(cfg.store));
  if (/^etcds?:\/\//.test(cfg.store)) {
    const { EtcdBlockStore, etcdOptionsFromConfig } = await import('./etcd.js');
    return new EtcdBlockStore(etcdOptionsFromConfig(cfg.store, cfg.etcd, logger));
  }
  throw new StoreError(
    `ipam.store: ${JSON.stringify(cfg.store)} is not file:///path or etcd(s)://host:port[,...]`,
  );
}
