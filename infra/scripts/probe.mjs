// Readiness probe used by the stack scripts: asks the service through its real protocol.
//   node infra/scripts/probe.mjs kafka host:port
//   node infra/scripts/probe.mjs redis host:port
import net from 'node:net';

const [kind, address] = process.argv.slice(2);

async function kafka() {
  const { Kafka, logLevel } = await import('kafkajs');
  const client = new Kafka({ brokers: [address], clientId: 'affinity-probe', logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2000, requestTimeout: 3000 });
  const admin = client.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0 || cluster.controller === null) throw new Error('no controller yet');
  } finally {
    await admin.disconnect();
  }
}

function redis() {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host);
    socket.setTimeout(2000, () => reject(new Error('timeout')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      socket.destroy();
      if (d.toString().startsWith('+PONG')) resolve();
      else reject(new Error(d.toString()));
    });
  });
}

try {
  if (kind === 'kafka') await kafka();
  else if (kind === 'redis') await redis();
  else throw new Error(`unknown service ${kind}`);
  process.exit(0);
} catch (err) {
  console.error(String(err?.message ?? err));
  process.exit(1);
}
