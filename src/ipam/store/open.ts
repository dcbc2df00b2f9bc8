/** Opens the block store named by `ipam.store`: `file:///path` or `etcd://` / `etcds://`. */
import { fileURLToPath } from 'node:url';
import type { IpamConfig } from '../../config/ipam.js';
import type { Logger } from '../../lib/log.js';
import { EtcdBlockStore, etcdOptionsFromConfig } from './etcd.js';
import { FileBlockStore } from './file.js';
import { type BlockStore, StoreError } from './types.js';

export function openStore(cfg: Pick<IpamConfig, 'store' | 'etcd'>, logger: Logger): BlockStore {
  if (cfg.store.startsWith('file://')) return new FileBlockStore(fileURLToPath(cfg.store));
  if (/^etcds?:\/\//.test(cfg.store))
    return new EtcdBlockStore(etcdOptionsFromConfig(cfg.store, cfg.etcd, logger));
  throw new StoreError(
    `ipam.store: ${JSON.stringify(cfg.store)} is not file:///path or etcd(s)://host:port[,...]`,
  );
}
