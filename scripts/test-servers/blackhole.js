'use strict';
// An upstream that accepts connections and never answers, so a request that nginx proxies
// here (the /stall/ location) hangs until the client's own timeout fires.
//
// usage: node blackhole.js PORT_FILE
// Listens on 127.0.0.1 on a port the kernel picks (no race with other servers) and writes
// that port to PORT_FILE once it is listening.
const fs = require('fs');
const net = require('net');

const portFile = process.argv[2];
if (!portFile) {
  console.error('usage: node blackhole.js PORT_FILE');
  process.exit(2);
}

const sockets = new Set();
const server = net.createServer((socket) => {
  sockets.add(socket);
  // Read and drop what arrives: a peer whose writes block would time out on its send side
  // instead of waiting for an answer.
  socket.on('data', () => {});
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
});

server.on('error', (err) => {
  console.error(`blackhole: ${err.message}`);
  process.exit(1);
});

server.listen(0, '127.0.0.1', () => {
  // Written by rename so the starting script never reads a half-written file.
  const tmp = `${portFile}.tmp`;
  fs.writeFileSync(tmp, `${server.address().port}\n`);
  fs.renameSync(tmp, portFile);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    // Closing the connections makes nginx answer the stalled requests (502), so a graceful
    // nginx stop does not wait for them.
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  });
}
