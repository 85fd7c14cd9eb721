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
// performance.now(). It reads the status line and Content-Length, nothing more;
// a chunked or malformed answer counts as an error.
//
// Its own GC pauses are timed into every request it has in flight, whichever
// server it measures, so it allocates as little as it can per response: no
// string or RegExp match per answer (the head is scanned as bytes), latencies
// in a preallocated Float64Array, no BigInt timestamps; and it collects its
// start-up garbage (module loading, connecting) before the first request, so
// that pause does not land in the measured window either.
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
const CR = 13;
const LF = 10;
const CONTENT_LENGTH = Buffer.from('content-length:', 'latin1');
/** The last head parseHead read: its status code and Content-Length (-1: none). */
let headStatus = 0;
let headLength = -1;

const latencies = new Float64Array(opts.amount);
let sent = 0;
let done = 0;
let ok = 0;
let non2xx = 0;
let errors = 0;

const sockets = await Promise.all(Array.from({ length: opts.connections }, () => open()));
// Start-up garbage (module loading, connecting) collected now, not in the window.
globalThis.gc?.();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(sockets.map((socket, i) => runConnection(socket, i)));
const durationS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    latencies: Array.from(latencies.subarray(0, ok)),
    requests: done,
    durationS,
    non2xx,
    errors,
    cpuUs: cpu.user + cpu.system,
  })}\n`,
);

/** A keep-alive connection, resolved once connected (a refused one resolves too: its run counts an error). */
function open() {
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(socket));
  });
}

/**
 * The end of the answer's head in `buf` (the index past its blank line), its
 * status and Content-Length read from the bytes into headStatus/headLength;
 * 0 while the head is incomplete.
 */
function parseHead(buf) {
  // "HTTP/1.1 200 ": the status is bytes 9–11.
  headStatus = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48);
  headLength = -1;
  let line = buf.indexOf(LF) + 1;
  while (line > 0 && line < buf.length) {
    if (buf[line] === CR && buf[line + 1] === LF) return line + 2;
    if (startsWithLower(buf, line, CONTENT_LENGTH)) {
      headLength = 0;
      let i = line + CONTENT_LENGTH.length;
      while (buf[i] === 32 || buf[i] === 9) i++;
      while (buf[i] >= 48 && buf[i] <= 57) headLength = headLength * 10 + (buf[i++] - 48);
    }
    line = buf.indexOf(LF, line) + 1;
  }
  return 0;
}

/** Whether `buf` at `at` starts with `lower` (lowercase ASCII), ignoring case. */
function startsWithLower(buf, at, lower) {
  if (at + lower.length > buf.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[at + i] | 0x20) !== lower[i]) return false;
  return true;
}

function runConnection(socket, index) {
  return new Promise((resolve) => {
    let buf = null;
    let started = 0;
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
      started = performance.now();
      socket.write(request);
    };
    socket.on('data', (chunk) => {
      buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const end = parseHead(buf);
        if (end === 0) return;
        if (headLength < 0) {
          socket.destroy();
          return;
        }
        const total = end + headLength;
        if (buf.length < total) return;
        const latencyMs = performance.now() - started;
        buf = buf.length === total ? null : buf.subarray(total);
        inFlight = false;
        done++;
        if (headStatus >= 200 && headStatus < 300) latencies[ok++] = latencyMs;
        else non2xx++;
        send();
        if (buf === null) return;
      }
    });
    // A connection lost (or refused) with a request in flight: that request is an error.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (inFlight) errors++;
      resolve();
    });
    // Refused (open() resolved on the error): nothing to send on it.
    if (socket.destroyed) resolve();
    else send();
  });
}
