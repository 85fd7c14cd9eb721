// The layers of lastday's code (STYLE.md "the shape of the house") and a lint
// rule that keeps imports pointing down: a module may import from its own
// folder and from the folders its layer lists, nothing else. Paths are
// resolved, so `../../store/x.ts` from src/http/routes counts as src/store.
import path from 'node:path';

/**
 * The layers, lowest first: each may import from itself and every layer below
 * it (domain ← config ← store ← telemetry ← queues ← connectors ← effects ←
 * guard ← jobs ← app).
 */
export const ORDER = [
  'src/domain',
  'src/config',
  'src/store',
  'src/telemetry',
  'src/queues',
  'src/connectors',
  'src/effects',
  'src/guard',
  'jobs',
  'src/app',
];

/**
 * Each folder and what it may import besides itself. http and cli sit on top
 * (they receive the context the root built); the composition root mounts the
 * route table, so src/app may import src/http too. Folders not listed here
 * (test/, bench/) are free.
 */
export const LAYERS = {
  ...Object.fromEntries(ORDER.map((layer, i) => [layer, ORDER.slice(0, i)])),
  'src/app': [...ORDER.slice(0, -1), 'src/http', 'src/console'],
  'src/http': [...ORDER],
  'src/console': [...ORDER, 'src/http'],
  'src/cli': [...ORDER, 'src/http'],
};

/** The layer folder a repository-relative path belongs to, or undefined. */
export function layerOf(relPath) {
  const p = relPath.split(path.sep).join('/');
  return Object.keys(LAYERS)
    .filter((layer) => p === layer || p.startsWith(`${layer}/`))
    .sort((a, b) => b.length - a.length)[0];
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports point down the layers of STYLE.md (eslint/layers.js LAYERS)' },
    schema: [],
    messages: {
      upward: '{{from}} may not import from {{to}} (layers: eslint/layers.js; see STYLE.md).',
    },
  },
  create(context) {
    const root = context.cwd;
    const file = path.relative(root, context.filename);
    const from = layerOf(file);
    if (!from) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = layerOf(path.relative(root, path.resolve(path.dirname(context.filename), source)));
      if (!to || to === from || LAYERS[from].includes(to)) return;
      context.report({ node, messageId: 'upward', data: { from, to } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export const layersPlugin = { rules: { imports: rule } };
