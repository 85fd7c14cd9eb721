// Server-side timing for the gate case (bench/cases/gate.ts), preloaded with
// `node --import` into lastday's API process and into the bare floor server
// alike, so both are timed the same way and neither's code knows of it.
//
// Per request: when node:http emits `request` (headers parsed) and how long
// until the answer is handed to the socket (`finish`); and every GC pause.
// Wall-clock epoch milliseconds (performance.timeOrigin + now), so the bench
// can cut out its measured window. Written to
// $LASTDAY_BENCH_TIMING_DIR/<pid>.json when the process exits.
//
// What the client sees beyond this is time outside the server's request
// handling: the request waiting in the socket until the server's event loop
// reads it, the answer's trip back, and the client's own processing.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';

const dir = process.env.LASTDAY_BENCH_TIMING_DIR;
if (dir) {
  const origin = performance.timeOrigin;
  /** [startEpochMs, durationMs] per request, flat. */
  const requests = [];
  /** [startEpochMs, durationMs] per GC pause, flat. */
  const gc = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push(origin + e.startTime, e.duration);
  }).observe({ entryTypes: ['gc'] });
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, req, res) {
    if (event === 'request') {
      const t0 = performance.now();
      res.once('finish', () => requests.push(origin + t0, performance.now() - t0));
    }
    return emit.apply(this, arguments);
  };
  process.once('exit', () => {
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ requests, gc }));
  });
}
