/**
 * A private OpenLDAP slapd for tests, like redisServer.ts: a free port, a
 * temporary directory with its own slapd.conf and MDB database (loaded with
 * slapadd before start), killed and removed at the end. Tests never touch a
 * directory they did not start.
 *
 * What it loads:
 * - the core, cosine and inetorgperson schemas;
 * - the ppolicy overlay with a default policy whose `pwdLockout` is TRUE, so
 *   `pwdAccountLockedTime` really stops binds (OpenLDAP 2.5+ builds the
 *   ppolicy schema into the module; older ones ship ppolicy.schema, included
 *   when present);
 * - a small Active Directory-flavoured schema (AD_SCHEMA below: `user` and
 *   `group` classes, `userAccountControl`, `sAMAccountName`), so the AD path
 *   runs against a real server too;
 * - a base tree: `ou=people` and `ou=groups` (OpenLDAP style), `ou=ad` with
 *   `ou=users` and `ou=groups` (AD style), and a service account
 *   `cn=lastday,ou=services` that may write everything but passwords.
 *
 * No slapd on this machine is a failure, not a skip: the error says how to
 * install it (CI's .ci/run installs it when missing).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import { freePort } from '../../src/app/embeddedRedis.ts';

const run = promisify(execFile);

export const SUFFIX = 'dc=example,dc=test';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const SERVICE_DN = `cn=lastday,ou=services,${SUFFIX}`;
export const PEOPLE = `ou=people,${SUFFIX}`;
export const GROUPS = `ou=groups,${SUFFIX}`;
export const AD_USERS = `ou=users,ou=ad,${SUFFIX}`;
export const AD_GROUPS = `ou=groups,ou=ad,${SUFFIX}`;

const INSTALL_HINT =
  'install OpenLDAP: `DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils` (Debian/Ubuntu); ' +
  '.ci/run installs it when missing';

/**
 * Active Directory-flavoured schema. The OIDs are Microsoft's own for these
 * names, so nothing here collides with a real schema's meaning.
 */
export const AD_SCHEMA = `
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  DESC 'AD account flags; bit 2 (0x2) is ACCOUNTDISABLE'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL
  MUST sAMAccountName MAY ( userAccountControl $ userPrincipalName $ mail ) )
objectclass ( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL
  MUST cn MAY ( member $ sAMAccountName $ description ) )
`;

export interface TestSlapdOptions {
  /** Extra LDIF loaded with the base tree. */
  ldif?: string;
}

export interface TestSlapd {
  url: string;
  port: number;
  dir: string;
  rootPassword: string;
  servicePassword: string;
  /** Runs `fn` bound as the rootdn: test set-up and inspection, beside what lastday does. */
  admin<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  /** Whether `dn` can bind with `password` now (false on invalidCredentials). */
  canBind(dn: string, password: string): Promise<boolean>;
  /** Stops the server and keeps its data (for a restart on the same port). */
  stop(): Promise<void>;
  /** Starts it again after `stop`, same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** `name` on PATH or in the sbin/libexec folders distributions put slapd in. */
function findBinary(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/libexec',
    '/usr/local/libexec',
  ];
  return dirs
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join(dir, name))
    .find((path) => existsSync(path));
}

function firstDir(candidates: string[], marker: string): string | undefined {
  return candidates.find((dir) => existsSync(join(dir, marker)));
}

export async function startTestSlapd(options: TestSlapdOptions = {}): Promise<TestSlapd> {
  const slapd = findBinary('slapd');
  const slapadd = findBinary('slapadd');
  if (!slapd || !slapadd) throw new Error(`slapd/slapadd not found: ${INSTALL_HINT}`);
  const modules = firstDir(
    ['/usr/lib/ldap', '/usr/lib/openldap', '/usr/lib64/openldap', '/usr/libexec/openldap'],
    'ppolicy.la',
  );
  const schemas = firstDir(['/etc/ldap/schema', '/etc/openldap/schema'], 'core.schema');
  if (!modules || !schemas) {
    throw new Error(`OpenLDAP's ppolicy module or core schema not found: ${INSTALL_HINT}`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'lastday-test-slapd-'));
  const rootPassword = 'root-secret';
  const servicePassword = 'service-secret';
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'ad.schema'), AD_SCHEMA);
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      ...['core', 'cosine', 'inetorgperson'].map((s) => `include ${join(schemas, `${s}.schema`)}`),
      // OpenLDAP < 2.5 ships the ppolicy schema as a file; 2.5+ builds it into the module.
      ...(existsSync(join(schemas, 'ppolicy.schema')) ? [`include ${join(schemas, 'ppolicy.schema')}`] : []),
      `include ${join(dir, 'ad.schema')}`,
      `modulepath ${modules}`,
      ...(existsSync(join(modules, 'back_mdb.la')) ? ['moduleload back_mdb'] : []),
      'moduleload ppolicy',
      `pidfile ${join(dir, 'slapd.pid')}`,
      'database mdb',
      `suffix "${SUFFIX}"`,
      `rootdn "${ROOT_DN}"`,
      `rootpw ${rootPassword}`,
      `directory ${join(dir, 'data')}`,
      'maxsize 104857600',
      'overlay ppolicy',
      `ppolicy_default "cn=default,ou=policies,${SUFFIX}"`,
      'access to attrs=userPassword by anonymous auth by * none',
      `access to * by dn.exact="${SERVICE_DN}" write by users read by * none`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'base.ldif'), `${baseLdif(servicePassword)}\n${options.ldif ?? ''}`);
  try {
    await run(slapadd, ['-f', conf, '-l', join(dir, 'base.ldif')]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`slapadd failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`);
  }

  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let log = '';

  const start = async () => {
    log = '';
    // -d keeps slapd in the foreground (a child we can kill); level 0 logs only errors.
    const proc = spawn(slapd, ['-f', conf, '-h', `${url}/`, '-d', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      log = (log + String(chunk)).slice(-4000);
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Client({ url, timeout: 1_000, connectTimeout: 1_000 });
      try {
        await probe.bind(ROOT_DN, rootPassword);
        await probe.unbind();
        return;
      } catch {
        await probe.unbind().catch(() => undefined);
        if (proc.exitCode !== null || Date.now() > deadline) {
          proc.kill('SIGKILL');
          throw new Error(`test slapd did not start on ${url}: ${log.trim() || `exit ${proc.exitCode}`}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const stop = () =>
    new Promise<void>((resolve) => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });

  const admin = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url, timeout: 5_000, connectTimeout: 5_000 });
    try {
      await client.bind(ROOT_DN, rootPassword);
      return await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };

  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dir,
    rootPassword,
    servicePassword,
    admin,
    canBind: async (dn, password) => {
      const client = new Client({ url, timeout: 5_000, connectTimeout: 5_000 });
      try {
        await client.bind(dn, password);
        return true;
      } catch (err) {
        if ((err as { code?: unknown }).code === 49) return false;
        throw err;
      } finally {
        await client.unbind().catch(() => undefined);
      }
    },
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function baseLdif(servicePassword: string): string {
  const ou = (name: string, parent = SUFFIX) =>
    `dn: ou=${name},${parent}\nobjectClass: organizationalUnit\nou: ${name}\n`;
  return [
    `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
    ou('policies'),
    // pwdLockout TRUE: without it slapo-ppolicy ignores pwdAccountLockedTime.
    `dn: cn=default,ou=policies,${SUFFIX}\nobjectClass: organizationalRole\nobjectClass: pwdPolicy\n` +
      'cn: default\npwdAttribute: userPassword\npwdLockout: TRUE\n',
    ou('services'),
    `dn: ${SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n` +
      `cn: lastday\nuserPassword: ${servicePassword}\n`,
    ou('people'),
    ou('groups'),
    ou('ad'),
    ou('users', `ou=ad,${SUFFIX}`),
    ou('groups', `ou=ad,${SUFFIX}`),
  ].join('\n');
}
