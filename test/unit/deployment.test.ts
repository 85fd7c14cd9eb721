/**
 * Deployment as shipped (issue #9 item 11), checked from the files themselves
 * (there is no Docker engine in CI):
 *
 * - `docker compose up` on a fresh clone: no variable the compose file
 *   requires (`${VAR:?…}`), every host path it mounts exists in the
 *   repository, and the environment it gives lastday — interpolated with no
 *   `.env`, the mounted config read from the repository — loads with lastday's
 *   own settings loader; Redis keeps AOF and noeviction; lastday is built
 *   from the Dockerfile and reachable on the published port.
 * - The image runs Node 22 LTS, which satisfies `engines` of lastday and of
 *   every production dependency (npm ci then prints no EBADENGINE), and
 *   `engines` does not claim a Node that cannot load them.
 * - `.dockerignore` keeps secrets and local state out of the build context.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | number | null>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition?: string }>;
  stop_grace_period?: string;
}
const compose = load(read('docker-compose.yml')) as { services: Record<string, Service> };
const lastday = compose.services.lastday!;
const redis = compose.services.redis!;

/**
 * Compose's interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?message}`, `${VAR?message}` against `vars` (what a `.env` holds).
 */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (_m, name, colon, op, arg) => {
      const v = vars[name as string];
      const missing = v === undefined || (colon === ':' && v === '');
      if (op === '?' && missing) throw new Error(`compose refuses to start: ${name} is required (${arg})`);
      if (op === '-' && missing) return arg as string;
      return v ?? '';
    },
  );
}

function lastdayEnvironment(vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(lastday.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''), vars)]),
  );
}

/** Container path → repository path, through the service's bind mounts. */
function hostPath(containerPath: string): string | undefined {
  for (const volume of lastday.volumes ?? []) {
    const [source, target] = volume.split(':');
    if (!source?.startsWith('.') || !target) continue;
    const rel = posix.relative(target, containerPath);
    if (!rel.startsWith('..')) return resolve(ROOT, source, rel);
  }
  return undefined;
}

describe('docker-compose.yml', () => {
  it('starts on a fresh clone: nothing required from .env, the mounted config is shipped and loads', () => {
    const env = lastdayEnvironment({}); // no .env at all
    expect(env.LASTDAY_CONFIG).toBeTruthy();
    const config = hostPath(env.LASTDAY_CONFIG!);
    expect(config, `${env.LASTDAY_CONFIG} is not under a bind mount`).toBeDefined();
    expect(existsSync(config!), `${config} is not in the repository`).toBe(true);
    for (const volume of lastday.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('.')) expect(existsSync(resolve(ROOT, source)), volume).toBe(true);
    }

    // lastday's own loader, on exactly that environment and file: no config or environment error.
    const settings = loadSettings({ ...env, LASTDAY_CONFIG: config! });
    expect(settings.env.REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
    expect(settings.env.HOST).toBe('0.0.0.0');
    // No token ships: the first step is `lastday token create`.
    expect(settings.config.auth.tokens).toEqual([]);
    expect(settings.config.connectors.map((c) => c.type)).toEqual(['directory']);

    // The secrets come from .env when set.
    const secret = `whsec_${Buffer.from('a-compose-test-secret-0123456789').toString('base64')}`;
    const withEnv = loadSettings({
      ...lastdayEnvironment({ LASTDAY_HR_WEBHOOK_SECRET: secret }),
      LASTDAY_CONFIG: config!,
    });
    expect(withEnv.env.LASTDAY_HR_WEBHOOK_SECRET).toBe(secret);
  });

  it('builds lastday from the Dockerfile and publishes the port it listens on', () => {
    const build = typeof lastday.build === 'string' ? lastday.build : (lastday.build?.context ?? '');
    expect(existsSync(resolve(ROOT, build, 'Dockerfile'))).toBe(true);
    const env = lastdayEnvironment({});
    expect(lastday.ports).toContain(`${env.PORT}:${env.PORT}`);
    expect(lastday.depends_on?.redis?.condition).toBe('service_healthy');
    // Longer than lastday's own shutdown bound, so lastday ends first (see workers.shutdownTimeoutMs).
    expect(Number.parseInt(lastday.stop_grace_period ?? '10', 10)).toBeGreaterThan(15);
  });

  it('keeps Redis a database: AOF on, fsync every second, noeviction, data on a volume', () => {
    const command = Array.isArray(redis.command) ? redis.command.join(' ') : (redis.command ?? '');
    expect(command).toMatch(/--appendonly yes\b/);
    expect(command).toMatch(/--appendfsync everysec\b/);
    expect(command).toMatch(/--maxmemory-policy noeviction\b/);
    expect(redis.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
  });
});

describe('Node version', () => {
  const image = [...read('Dockerfile').matchAll(/^FROM node:(\d+)-/gm)].map((m) => Number(m[1]));
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;

  it('the image runs Node 22 LTS in every stage', () => {
    expect(image.length).toBeGreaterThanOrEqual(2);
    expect(new Set(image)).toEqual(new Set([22]));
  });

  it('Node 22 satisfies lastday and every production dependency (no EBADENGINE in the image)', () => {
    const node22 = '22.12.0'; // the first 22 LTS with require(esm) unflagged
    expect(semver.satisfies(node22, engines)).toBe(true);
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { dev?: boolean; engines?: { node?: string } }>;
    };
    const refused = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !p.dev && p.engines?.node)
      .filter(([, p]) => !semver.satisfies(node22, p.engines!.node!))
      .map(([path, p]) => `${path} wants ${p.engines!.node}`);
    expect(refused).toEqual([]);
  });

  it('engines claims no Node that cannot load the dependencies (require(esm) needs 20.19 or 22.12)', () => {
    // cookie@2 and content-disposition@3 are ESM-only and required from CommonJS
    // (light-my-request, @fastify/static): Node loads that from 20.19 and 22.12 on.
    for (const tooOld of ['20.10.0', '20.18.3', '22.11.0'])
      expect(semver.satisfies(tooOld, engines)).toBe(false);
    for (const fine of ['20.19.0', '22.12.0', '24.0.0']) expect(semver.satisfies(fine, engines)).toBe(true);
  });
});

describe('.dockerignore', () => {
  it('keeps secrets, local state and the host node_modules out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['.env', '.lastday', 'node_modules', '.git', 'dist'])
      expect(ignored).toContain(entry);
  });
});

describe('node flags', () => {
  /** The words between `node` and `bin/lastday.js`. */
  const flagsOf = (words: readonly string[]) =>
    words.slice(words.indexOf('node') + 1, words.indexOf('bin/lastday.js'));
  const pkg = JSON.parse(read('package.json')) as { scripts: { start: string } };
  const npmStart = flagsOf(pkg.scripts.start.trim().split(/\s+/));

  it('npm start runs lastday with a young generation of 32 MB semi-spaces (docs/benchmarks.md)', () => {
    expect(pkg.scripts.start).toMatch(/^node .*bin\/lastday\.js start$/);
    expect(npmStart).toEqual(['--max-semi-space-size=32']);
  });

  it('the image runs lastday with the same node flags as npm start', () => {
    const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(read('Dockerfile'))?.[1];
    expect(entrypoint, 'the Dockerfile has an exec-form ENTRYPOINT').toBeDefined();
    const words = JSON.parse(entrypoint!) as string[];
    expect(words[0]).toBe('node');
    expect(words.at(-1)).toBe('bin/lastday.js');
    expect(flagsOf(words)).toEqual(npmStart);
  });
});
