/** Opens the OSPF socket on argv[2] and prints what happened as one JSON line (socket tests). */
import { openOspfSocket } from '../../src/ospf/socket.js';

try {
  const s = openOspfSocket(process.argv[2] ?? 'eth1', { broadcast: process.argv[3] === 'broadcast' });
  process.stdout.write(`${JSON.stringify({ ok: true, info: s.info })}\n`);
  await s.close();
} catch (e) {
  process.stdout.write(
    `${JSON.stringify({ ok: false, error: (e as Error).message, name: (e as Error).constructor.name })}\n`,
  );
}
