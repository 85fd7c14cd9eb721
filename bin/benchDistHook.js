// Module hook for bin/bench.js: a module under src/ or jobs/ resolved to its
// TypeScript source is loaded from dist/ instead (same relative path, `.js`).
// Only lastday's own sources are mapped; the bench's and the tests' helpers
// stay TypeScript.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { relative, sep } from 'node:path';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = `${ROOT}dist${sep}`;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith('file:') || !resolved.url.endsWith('.ts')) return resolved;
  const path = relative(ROOT, fileURLToPath(resolved.url));
  if (!path.startsWith(`src${sep}`) && !path.startsWith(`jobs${sep}`)) return resolved;
  return { ...resolved, url: pathToFileURL(`${DIST}${path.slice(0, -3)}.js`).href, format: 'module' };
}
