/**
 * Setup file of the system project, whose files share a worker process one
 * after another (isolate: false). A file that leaves a socket, a server or a
 * child process open would go on working in the next file's process: say so,
 * naming the file, instead of letting it slow down whichever file runs next.
 */
import { afterAll, beforeAll, expect } from 'vitest';

const WATCHED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'ProcessWrap']);

function open(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo())
    if (WATCHED.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

function left(before: Map<string, number>): string[] {
  return [...open()]
    .filter(([kind, n]) => n > (before.get(kind) ?? 0))
    .map(([kind, n]) => `${n - (before.get(kind) ?? 0)} ${kind}`);
}

let before = new Map<string, number>();
beforeAll(() => {
  before = open();
});
// Registered first, so it runs after the file's own afterAll hooks (hooks run as a stack).
afterAll(async () => {
  // Closing sockets are gone within a few ticks; give them up to a second.
  for (let waited = 0; left(before).length > 0 && waited < 1_000; waited += 25)
    await new Promise((r) => setTimeout(r, 25));
  const leaks = left(before);
  if (leaks.length > 0)
    console.warn(`${expect.getState().testPath ?? 'a test file'} left open: ${leaks.join(', ')}`);
});
