/**
 * Which received routes are kept (the peer's `accept` setting): none, only the default routes
 * (0.0.0.0/0 and ::/0, the usual thing a node wants from its leafs), or everything. The coarse half
 * of a peer's import policy; peer-policy.ts combines it with the `import` prefix lists.
 */
import type { Prefix } from '../../net/prefix.js';

export type AcceptPolicy = 'none' | 'default' | 'all';

export function accepts(policy: AcceptPolicy, p: Prefix): boolean {
  switch (policy) {
    case 'none':
      return false;
    case 'default':
      return p.length === 0;
    case 'all':
      return true;
  }
}
