// A TCP listener that accepts each connection and closes it at once; prints its port on stdout.
// Run as its own process so its CPU is not charged to the benchmark or the node.
import net from 'node:net';

let accepted = 0;
const server = net.createServer({ pauseOnConnect: true }, (sock) => {
  accepted++;
  sock.on('error', () => {});
  sock.destroy();
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  process.stderr.write(`tcp-sink: accepted ${accepted}\n`);
  server.close();
  process.exit(0);
});
