// The HTTP floor of the gate case (bench/cases/gate.ts): a bare node:http
// server answering every request with one Redis GET and a JSON body the size
// of a gate answer. No framework, no auth, no logging: the least an HTTP
// service on one Redis round trip can cost on this machine, run as its own
// process like the API. Plain JS, so it starts without tsx.
// Usage: node httpFloorServer.mjs <redisUrl> <key>; prints the port on stdout.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const [redisUrl, key] = process.argv.slice(2);
const redis = new Redis(redisUrl);
const server = createServer((req, res) => {
  req.resume();
  redis.get(key).then(
    (value) => {
      const body = JSON.stringify({
        decision: 'allow',
        state: 'pending',
        reason: `initiator active; target not protected ${value ?? ''}`,
      });
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    },
    () => {
      res.writeHead(503);
      res.end();
    },
  );
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => {
  server.close();
  redis.disconnect();
  process.exit(0);
});
