/**
 * LDAP revoke time per person against a local slapd (test/helpers/slapd.ts):
 * what the v1.1 revoke asks of the ldap connector for one person, timed end
 * to end: `disable` (lock the account), then `read` what is left and
 * `removeGrants` it. Each person is in three groups: a privileged one and a
 * staff group shared by everyone (plus a keeper member, as groupOfNames
 * requires one), and a group of their own.
 *
 *   npx tsx bench/revokeLdap.ts [people=100] [concurrency=4] [flavor=openldap|ad]
 *
 * Two passes on fresh people: one person at a time (the latency of one
 * revoke), then everyone at once through one connector (`concurrency`
 * connections: the latency under a burst, and the wall time of the burst).
 * Prints p50/p95/p99/max in ms and writes bench/results/ldap-<timestamp>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createLogger } from '../src/telemetry/logger.ts';
import { LdapConnector } from '../src/connectors/ldap.ts';
import { benchArgs } from './lib/args.ts';
import { percentile } from './lib/stats.ts';
import {
  AD_GROUPS,
  AD_USERS,
  GROUPS,
  PEOPLE,
  SERVICE_DN,
  startTestSlapd,
  SUFFIX,
} from '../test/helpers/slapd.ts';

const args = benchArgs();
const people = args.number(0, 100);
const concurrency = args.number(1, 4);
const flavor = (args.text(2) ?? 'openldap') as 'openldap' | 'ad';
const users = flavor === 'ad' ? AD_USERS : PEOPLE;
const groups = flavor === 'ad' ? AD_GROUPS : GROUPS;

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    n: s.length,
    p50: r(percentile(s, 50)),
    p95: r(percentile(s, 95)),
    p99: r(percentile(s, 99)),
    max: r(s.at(-1)!),
  };
}

/** LDIF for one pass: `people` users, a shared privileged and staff group, one group each. */
function population(pass: string): string {
  const ids = Array.from({ length: people }, (_, i) => `${pass}-${i}`);
  const dn = (id: string) => `cn=${id},${users}`;
  const user = (id: string) =>
    flavor === 'ad'
      ? `dn: ${dn(id)}\nobjectClass: user\ncn: ${id}\nsn: Bench\nsAMAccountName: ${id}\nuserAccountControl: 512\n`
      : `dn: ${dn(id)}\nobjectClass: inetOrgPerson\ncn: ${id}\nsn: Bench\nuid: ${id}\n`;
  const cls = flavor === 'ad' ? 'group' : 'groupOfNames';
  const group = (cn: string, members: string[]) =>
    `dn: cn=${cn},${groups}\nobjectClass: ${cls}\ncn: ${cn}\n${members.map((m) => `member: ${m}\n`).join('')}`;
  const keeper = `cn=keeper,${SUFFIX}`;
  return [
    ...ids.map(user),
    group(`${pass}-ops-admins`, [keeper, ...ids.map(dn)]),
    group(`${pass}-staff`, [keeper, ...ids.map(dn)]),
    ...ids.map((id) => group(`${id}-own`, [keeper, dn(id)])),
  ].join('\n');
}

async function main(): Promise<void> {
  const slapd = await startTestSlapd({ ldif: `${population('seq')}\n${population('burst')}` });
  const connector = new LdapConnector(
    {
      name: 'corp',
      url: slapd.url,
      bindDn: SERVICE_DN,
      baseDn: users,
      userFilter: flavor === 'ad' ? '(sAMAccountName={id})' : '(uid={id})',
      groupBaseDn: groups,
      privilegedGroups: ['*-admins'],
      flavor,
      timeoutMs: 10_000,
      concurrency,
    },
    { password: slapd.servicePassword, log: createLogger('silent') },
  );
  const revoke = async (id: string): Promise<number> => {
    const t0 = performance.now();
    await connector.disable({ id });
    const left = await connector.read({ id });
    await connector.removeGrants({ id }, left.grants);
    const ms = performance.now() - t0;
    const after = await connector.read({ id });
    if (after.active || after.grants.length > 0)
      throw new Error(`${id} not revoked: ${JSON.stringify(after)}`);
    return ms;
  };
  try {
    await connector.read({ id: 'seq-0' }); // one warm connection, as in a running worker
    const sequential: number[] = [];
    for (let i = 0; i < people; i++) sequential.push(await revoke(`seq-${i}`));
    const t0 = performance.now();
    const burst = await Promise.all(Array.from({ length: people }, (_, i) => revoke(`burst-${i}`)));
    const wallMs = Math.round(performance.now() - t0);
    const result = {
      at: new Date().toISOString(),
      flavor,
      people,
      concurrency,
      sequential: summary(sequential),
      burst: { ...summary(burst), wallMs, perPersonMs: Math.round((wallMs / people) * 10) / 10 },
    };
    console.log(JSON.stringify(result, null, 2));
    const dir = new URL('./results/', import.meta.url).pathname;
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      `${dir}ldap-${result.at.replace(/[:.]/g, '-')}.json`,
      `${JSON.stringify(result, null, 2)}\n`,
    );
  } finally {
    await connector.close();
    await slapd.close();
  }
}

await main();
