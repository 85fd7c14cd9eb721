// The gate case's load generator (bench/cases/gate.ts), run as its own process
// against lastday's API and against the bare floor server alike.
//
// Why not autocannon in the bench process: there it shares an event loop
// with the bench's lastday runtime (BullMQ workers, crons) and the bench's
// bookkeeping, whose pauses are timed as the server's latency; and it spends
// 150–300 µs of CPU per request on a 2-core machine where the server under
// test needs ~250 µs, so the client takes a core's worth the server then
// waits for. This client does only what the measure needs: N keep-alive
// connections, each sending a prebuilt request as soon as the previous answer
// is complete (closed loop, no pipelining, like autocannon), timing each with
// process.hrtime. It reads the status line and Content-Length, nothing more;
// a chunked or malformed answer counts as an error.
// Plain JS, so it starts without tsx.
//
// Usage: node httpLoad.mjs '{"url","connections","amount","requests":[{"method","path"}],"headers"}'
// Prints one JSON line: {latencies, requests, durationS, non2xx, errors, cpuUs}.
import { connect } from 'node:net';

const opts = JSON.parse(process.argv[2] ?? '{}');
const { hostname, port } = new URL(opts.url);
const headerLines = Object.entries(opts.headers ?? {})
  .map(([k, v]) => `${k}: ${v}\r\n`)
  .join('');
const requests = opts.requests.map(({ method, path }) =>
  Buffer.from(
    `${method} ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n${headerLines}content-length: 0\r\n\r\n`,
    'latin1',
  ),
);
const HEADER_END = Buffer.from('\r\n\r\n');

const latencies = [];
let sent = 0;
let done = 0;
let non2xx = 0;
let errors = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();

await Promise.all(Array.from({ length: opts.connections }, (_, i) => runConnection(i)));

const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    latencies,
    requests: done,
    durationS: Number(process.hrtime.bigint() - t0) / 1e9,
    non2xx,
    errors,
    cpuUs: cpu.user + cpu.system,
  })}\n`,
);

function runConnection(index) {
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), noDelay: true });
    let buf = Buffer.alloc(0);
    let started = 0n;
    let inFlight = false;
    let next = index;
    const send = () => {
      if (sent >= opts.amount) {
        socket.end();
        return;
      }
      sent++;
      const request = requests[next % requests.length];
      next += opts.connections;
      inFlight = true;
      started = process.hrtime.bigint();
      socket.write(request);
    };
    socket.once('connect', send);
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf(HEADER_END);
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        const status = Number(head.slice(9, 12));
        const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        if (!length) {
          socket.destroy();
          return;
        }
        const total = end + HEADER_END.length + Number(length[1]);
        if (buf.length < total) return;
        const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
        buf = buf.subarray(total);
        inFlight = false;
        done++;
        if (status >= 200 && status < 300) latencies.push(latencyMs);
        else non2xx++;
        send();
      }
    });
    // A connection lost (or refused) with a request in flight: that request is an error.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (inFlight) errors++;
      resolve();
    });
  });
}
