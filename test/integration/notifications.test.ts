/**
 * Notifications end to end, on a real SMTP server (smtp-server) and a real
 * HTTP server standing in for a Slack incoming webhook: the notice to the
 * manager and ops, a new hold to the approvers within seconds (measured), the
 * expiry warning that is dropped once the hold is decided, a mail server that
 * is down and comes back (delivered once, after retries), and a notification
 * that cannot be delivered or even queued never failing the milestone.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runMilestoneJob } from '../../jobs/milestone.ts';
import { createContext } from '../../src/app/context.ts';
import { Notifier } from '../../src/queues/notifier.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { createRedis } from '../../src/queues/connection.ts';
import { QUEUES } from '../../src/queues/names.ts';
import type { NotificationJobData } from '../../src/queues/notifications.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { bearer, eventually, TOKENS, testLogger, testRuntime, testSettings } from '../helpers/lastday.ts';
import { type MailServer, type SlackHook, startMailServer, startSlackHook } from '../helpers/mailServer.ts';
import { auditOf, milestoneState, postHrEvent } from '../helpers/offboarding.ts';

const OPS = 'secops@corp.example';
const APPROVERS = 'approvers@corp.example';
const MANAGER = 'manager.mia@corp.example';
const CONSOLE = 'https://lastday.corp.example';

let mail: MailServer;
let slack: SlackHook;
let rt: Runtime;

beforeAll(async () => {
  mail = await startMailServer();
  slack = await startSlackHook();
  const settings = testSettings({
    protectedTargets: ['account:@vip-*'],
    notifications: {
      email: { smtpUrl: mail.url, from: 'lastday@corp.example' },
      slack: { webhookUrlEnv: 'TEST_SLACK_HOOK' },
      ops: [OPS],
      approvers: [APPROVERS],
      consoleUrl: `${CONSOLE}/`,
    },
  });
  rt = await testRuntime(settings, { env: { ...process.env, TEST_SLACK_HOOK: slack.url } });
});

afterAll(async () => {
  await rt?.stop();
  await mail?.stop();
  await slack?.close();
});

const mailsTo = (address: string, subject: string) =>
  mail.received.filter((m) => m.envelopeTo.includes(address) && (m.mail.subject ?? '').includes(subject));

async function register(body: Record<string, unknown>) {
  const res = await fetch(`${rt.url}/v1/actions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(TOKENS.system) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { state: string } };
}

/**
 * Until no notification job waits or runs: every mail and post a queued job was
 * going to make has been received (the test servers record a message before
 * answering it, and a job completes only on that answer). What a test then finds
 * missing was not sent, instead of not sent yet after a fixed wait.
 */
async function notificationsSettled(): Promise<void> {
  await eventually(async () => {
    const counts = await rt.ctx.queues.notifications.getJobCounts('waiting', 'active', 'prioritized');
    return Object.values(counts).every((n) => n === 0);
  });
}

async function notificationJobs(name: string) {
  const queue = rt.ctx.queues.notifications;
  const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  return jobs.filter((j) => j.name === name);
}

describe('notifications', () => {
  it('tells the manager and ops of the notice, in the person zone and UTC, by mail and Slack', async () => {
    const soon = endingSoon(3600, 'Europe/Berlin');
    const event = hrEvent({
      personId: 'n-1',
      lastDay: soon.lastDay,
      endTime: soon.endTime,
      timezone: soon.timezone,
    });
    (event.person as Record<string, unknown>).manager = { id: 'm-1', email: MANAGER };
    await postHrEvent(rt, event);

    const [notice] = await eventually(async () => {
      const found = mailsTo(MANAGER, 'Offboarding notice');
      return found.length > 0 && found;
    });
    expect(notice!.envelopeTo.sort()).toEqual([MANAGER, OPS].sort());
    // smtp:// upgraded with STARTTLS, although the server's certificate is self-signed.
    expect(notice!.secure).toBe(true);
    expect(notice!.mail.subject).toContain('Sam Contractor (n-1)');
    const text = notice!.mail.text ?? '';
    expect(text).toContain('Europe/Berlin');
    expect(text).toMatch(/\d{2}:\d{2} UTC/);
    expect(text).toContain('revoke:');
    expect(notice!.mail.html).toContain('<table');
    expect(notice!.mail.messageId).toMatch(/^<notify\.notice\.[0-9a-f]+\.email@lastday>$/);
    // No secret in the body: the Slack URL is one.
    expect(`${text}${notice!.mail.html}`).not.toContain(slack.url);

    await eventually(async () => slack.posts.some((p) => p.text.includes('Offboarding notice')));
    expect(await milestoneState(rt, 'n-1', 'notice')).toBe('done');
    const done = (await auditOf(rt, 'n-1')).find(
      (e) => e.type === 'milestone.done' && e.details.milestone === 'notice',
    );
    expect(done?.details.notification).toBe('queued');
    // The manager is kept on the person record.
    expect((await rt.ctx.people.get('n-1'))?.person.manager).toEqual({ id: 'm-1', email: MANAGER });
  });

  it('tells the approvers of a new hold within seconds, with a console link; the expiry warning is dropped once decided', async () => {
    await postHrEvent(rt, hrEvent({ personId: 'dev-7', lastDay: '2027-06-30', timezone: 'Asia/Tokyo' }));
    await eventually(async () => rt.ctx.people.get('dev-7'));
    const started = Date.now();
    const registered = await register({
      actionId: 'act/1',
      initiatorId: 'dev-7',
      kind: 'account.deactivate',
      target: 'account:@vip-ceo',
      executeAt: '2027-01-01T00:00:00Z',
      callbackUrl: 'http://127.0.0.1:9/cb?token=s3cr3t-callback',
    });
    expect(registered).toMatchObject({ status: 201, body: { state: 'held' } });

    const [hold] = await eventually(async () => {
      const found = mailsTo(APPROVERS, 'Hold to decide');
      return found.length > 0 && found;
    }, 5_000);
    const delayMs = hold!.at - started;
    console.log(`notification delay, hold registered → mail received: ${delayMs} ms`);
    expect(delayMs).toBeLessThan(5_000);
    const text = hold!.mail.text ?? '';
    expect(text).toContain(`${CONSOLE}/console/holds/act%2F1`);
    expect(text).toContain('Asia/Tokyo');
    expect(text).toContain('account:@vip-ceo');
    expect(`${text}${hold!.mail.html}`).not.toContain('s3cr3t');
    await eventually(async () => slack.posts.some((p) => p.text.includes('vip-ceo')));

    // The same registration again queues the same job ids: no second mail.
    expect(
      (
        await register({
          actionId: 'act/1',
          initiatorId: 'dev-7',
          kind: 'account.deactivate',
          target: 'account:@vip-ceo',
          executeAt: '2027-01-01T00:00:00Z',
          callbackUrl: 'http://127.0.0.1:9/cb?token=s3cr3t-callback',
        })
      ).status,
    ).toBe(201);

    // Ops hear of it 12 h before the 72 h expiry, unless it is decided by then.
    const [warning] = (await notificationJobs('hold_expiring')).filter((j) => j.data.channel === 'email');
    expect(warning?.opts.delay).toBeGreaterThan(59.9 * 3_600_000);
    expect(warning?.opts.delay).toBeLessThanOrEqual(60 * 3_600_000);
    const approve = await fetch(`${rt.url}/v1/actions/${encodeURIComponent('act/1')}/approve`, {
      method: 'POST',
      headers: bearer(TOKENS.approver),
    });
    expect(approve.status).toBe(200);
    for (const job of await notificationJobs('hold_expiring')) await job.promote();
    await eventually(async () => {
      const jobs = await notificationJobs('hold_expiring');
      return jobs.every((j) => (j.returnvalue as { outcome?: string } | null)?.outcome === 'skipped') && jobs;
    });
    await notificationsSettled(); // a second mail, if the repeat had queued one, is in by now
    expect(mailsTo(OPS, 'expiring')).toHaveLength(0);
    expect(mailsTo(APPROVERS, 'Hold to decide')).toHaveLength(1);
  });

  it('tells ops of failed, overdue and drifting milestones through the alert path, once a day per subject', async () => {
    await postHrEvent(
      rt,
      hrEvent({ personId: 'late-1', lastDay: '2027-03-05', timezone: 'America/Los_Angeles' }),
    );
    await eventually(async () => rt.ctx.people.get('late-1'));
    const overdue = {
      kind: 'milestone_overdue',
      message: 'revoke for late-1 was due 2027-03-06T01:00:00.000Z and is not done (20 min late)',
      personId: 'late-1',
      details: { milestone: 'revoke', dueAt: '2027-03-06T01:00:00.000Z' },
    };
    await rt.ctx.alerts.raise(overdue);
    await rt.ctx.alerts.raise(overdue); // the same subject the same day: one mail
    await rt.ctx.alerts.raise({
      kind: 'drift',
      message: 'access still present in scim after revoke',
      personId: 'late-1',
      details: { connector: 'scim' },
    });
    await rt.ctx.alerts.raise({ kind: 'cron_late', message: 'a cron is late' }); // not a notification
    const [mailed] = await eventually(async () => {
      const found = mailsTo(OPS, 'Milestone overdue: revoke for late-1');
      return found.length > 0 && found;
    });
    expect(mailed!.envelopeTo).toEqual([OPS]);
    // 01:00 UTC is 17:00 the day before in Los Angeles.
    expect(mailed!.mail.text).toContain(
      'Fri 5 Mar 2027, 17:00 PST (America/Los_Angeles) · Sat 6 Mar 2027, 01:00 UTC',
    );
    await eventually(async () => mailsTo(OPS, 'drift').length === 1);
    await notificationsSettled();
    expect(mailsTo(OPS, 'Milestone overdue: revoke for late-1')).toHaveLength(1);
    expect(mail.received.filter((m) => (m.mail.subject ?? '').includes('cron_late'))).toHaveLength(0);
  });

  it('tells the approvers once per freeze batch of held actions', async () => {
    const ids = ['f-1', 'f-2', 'f-3'];
    for (const [i, actionId] of ids.entries())
      expect(
        await register({
          actionId,
          initiatorId: 'leaver-9',
          kind: 'account.deactivate',
          target: `account:u${i}`,
        }),
      ).toMatchObject({ status: 201, body: { state: 'pending' } });
    await postHrEvent(
      rt,
      hrEvent({ type: 'contract.terminated', personId: 'leaver-9', timezone: 'Europe/London' }),
    );
    const [batch] = await eventually(async () => {
      const found = mailsTo(APPROVERS, '3 holds to decide');
      return found.length > 0 && found;
    });
    for (const id of ids) expect(batch!.mail.text).toContain(`${CONSOLE}/console/holds/${id}`);
    expect(batch!.mail.text).toContain('Europe/London');
  });

  it('delivers once, after retries, when the mail server was down and comes back', async () => {
    await mail.stop();
    expect(
      await register({
        actionId: 'act-2',
        initiatorId: 'dev-8',
        kind: 'data.delete',
        target: 'account:@vip-cfo',
      }),
    ).toMatchObject({ status: 201, body: { state: 'held' } });
    // Slack is its own job: it goes out at once, whatever the mail server does.
    await eventually(async () => slack.posts.some((p) => p.text.includes('vip-cfo')));
    const emailJob = async () =>
      (await notificationJobs('hold')).find(
        (j) => j.data.channel === 'email' && j.data.message.subject.includes('vip-cfo'),
      );
    await eventually(async () => ((await emailJob())?.attemptsMade ?? 0) >= 2, 8_000);
    expect(mailsTo(APPROVERS, 'vip-cfo')).toHaveLength(0);

    await mail.start();
    await eventually(async () => mailsTo(APPROVERS, 'vip-cfo').length > 0, 15_000);
    // Done retrying: no attempt of it (nor of any other queued job) can deliver again.
    await eventually(async () => (await (await emailJob())?.getState()) === 'completed');
    await notificationsSettled();
    expect(mailsTo(APPROVERS, 'vip-cfo')).toHaveLength(1);
    expect(slack.posts.filter((p) => p.text.includes('vip-cfo'))).toHaveLength(1);
    const job = await emailJob();
    expect(await job?.getState()).toBe('completed');
    expect(job?.attemptsMade).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('a notification that cannot be delivered, or even queued, never fails the milestone', async () => {
    await mail.stop();
    slack.status = 500;
    try {
      const soon = endingSoon(3600, 'America/New_York');
      const event = hrEvent({
        personId: 'n-2',
        lastDay: soon.lastDay,
        endTime: soon.endTime,
        timezone: soon.timezone,
      });
      (event.person as Record<string, unknown>).manager = { email: MANAGER };
      await postHrEvent(rt, event);
      await eventually(async () => (await milestoneState(rt, 'n-2', 'reduce')) === 'done');
      expect(await milestoneState(rt, 'n-2', 'notice')).toBe('done');
      // Its notifications wait in the outbox, retrying.
      await eventually(async () => {
        const jobs = (await notificationJobs('notice')).filter((j) => j.data.message.subject.includes('n-2'));
        return jobs.length === 2 && jobs.every((j) => j.attemptsMade >= 1);
      });

      // A notifier whose Redis is gone: the notice still completes, and the
      // failure is logged and counted, within the enqueue bound.
      await postHrEvent(rt, hrEvent({ personId: 'n-3', lastDay: '2027-09-30', timezone: 'Europe/Paris' }));
      const record = await eventually(async () => rt.ctx.people.get('n-3'));
      const dueAt = Date.parse(record.milestones.find((m) => m.name === 'notice')!.dueAt);
      const deadRedis = createRedis('redis://127.0.0.1:1/0', 'producer', 'dead-redis');
      deadRedis.on('error', () => undefined);
      const deadQueue = new Queue<NotificationJobData>(QUEUES.notifications, {
        connection: deadRedis,
        prefix: rt.ctx.prefix,
      });
      deadQueue.on('error', () => undefined);
      const later = () => new Date(dueAt + 1_000);
      const { referenceNowMs: _, ...rest } = rt.ctx;
      const ctx = {
        ...rest,
        now: later,
        notifier: new Notifier({
          config: rt.ctx.settings.config.notifications,
          channels: rt.ctx.notifier.channels,
          consoleUrl: CONSOLE,
          holdExpiryHours: 72,
          queue: deadQueue as never,
          people: rt.ctx.people,
          log: rt.ctx.log,
          metrics: rt.ctx.metrics,
          now: later,
        }),
      };
      const before = (await rt.ctx.metrics.notificationEnqueueErrors.get()).values.reduce(
        (s, v) => s + v.value,
        0,
      );
      const t0 = Date.now();
      const result = await runMilestoneJob(ctx, {
        personId: 'n-3',
        version: record.planVersion,
        milestone: 'notice',
      });
      expect(Date.now() - t0).toBeLessThan(4_500);
      deadRedis.disconnect();
      expect(result).toMatchObject({ outcome: 'done', ran: ['notice'] });
      const done = (await auditOf(rt, 'n-3')).find((e) => e.type === 'milestone.done');
      expect(done?.details.notification).toBe('enqueue_failed');
      const after = (await rt.ctx.metrics.notificationEnqueueErrors.get()).values.reduce(
        (s, v) => s + v.value,
        0,
      );
      expect(after).toBe(before + 1);
    } finally {
      slack.status = 200;
      await mail.start();
    }
  }, 30_000);

  it('refuses to start when the Slack webhook variable is missing, without naming its value', async () => {
    const settings = testSettings({ notifications: { slack: { webhookUrlEnv: 'NOPE_SLACK_HOOK' } } });
    await expect(
      createContext({ settings, redisUrl: inject('redisUrl'), log: testLogger(), env: {} }),
    ).rejects.toThrow(/notifications\.slack\.webhookUrlEnv: environment variable NOPE_SLACK_HOOK is not set/);
  });

  it('refuses a Slack webhook URL that does not parse or carries credentials, without naming it', async () => {
    // fetch's error for either quotes the URL whole, and the URL is the secret.
    const settings = testSettings({ notifications: { slack: { webhookUrlEnv: 'BAD_SLACK_HOOK' } } });
    for (const url of [
      'https://[hooks.slack.example/services/T0/B0/s3cret',
      'https://u:s3cret@hooks.example/x',
    ]) {
      const err = await createContext({
        settings,
        redisUrl: inject('redisUrl'),
        log: testLogger(),
        env: { BAD_SLACK_HOOK: url },
      }).catch((e: unknown) => e as Error);
      if (!(err instanceof Error)) await err.close();
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/notifications\.slack\.webhookUrlEnv: BAD_SLACK_HOOK/);
      expect((err as Error).message).not.toContain('s3cret');
    }
  });
});
