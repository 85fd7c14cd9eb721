/**
 * No token, cookie, signature or secret lands in the logs (issue #9, auth
 * part 6): a lastday at `trace` level serves bearer, cookie, sign-in and signed
 * webhook requests (tokens also sent where they do not belong, in a query
 * string), and logs objects carrying credential headers; the captured lines
 * never contain one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import {
  bearer,
  HR_SECRET,
  LogCapture,
  signedHeaders,
  TOKENS,
  testLogger,
  testRuntime,
  testSettings,
} from '../helpers/lastday.ts';
import { rawRequest } from '../helpers/rawHttp.ts';

const capture = new LogCapture();
let rt: Runtime;

beforeAll(async () => {
  rt = await testRuntime(testSettings(), { roles: ['api'], log: testLogger('trace', capture) });
});
afterAll(async () => {
  await rt?.stop();
});

describe('log redaction', () => {
  it('keeps every credential out of the log lines', async () => {
    const url = rt.url!;
    const body = JSON.stringify({ eventId: 'redaction-probe' });
    const signed = signedHeaders(body);
    const cookie = { cookie: `lastday_token=${TOKENS.admin}` };

    await rawRequest(url, 'GET', `/v1/audit/verify?personId=p&token=${TOKENS.viewer}`, {
      headers: bearer(TOKENS.admin),
    });
    await rawRequest(url, 'GET', `/v1/audit?access_token=${TOKENS.approver}&x=1`, { headers: cookie });
    await rawRequest(url, 'GET', '/ops/queues/', { headers: { ...cookie, accept: 'text/html' } });
    await rawRequest(url, 'PUT', '/ops/queues/api/queues/milestones/resume', { headers: cookie });
    await rawRequest(url, 'POST', '/ops/login', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKENS.admin}`,
    });
    await rawRequest(url, 'POST', '/v1/hr-events', { headers: signed, body });
    await rawRequest(url, 'POST', '/v1/hr-events', {
      headers: { ...signed, 'webhook-signature': 'v1,AAAA' },
      body,
    });

    rt.ctx.log.info(
      {
        headers: {
          authorization: `Bearer ${TOKENS.system}`,
          cookie: `lastday_token=${TOKENS.system}`,
          'set-cookie': `lastday_token=${TOKENS.system}`,
          'webhook-signature': signed['webhook-signature'],
        },
        request: { headers: { authorization: `Bearer ${TOKENS.system}`, cookie: TOKENS.system } },
        connector: { secret: HR_SECRET, token: TOKENS.system },
      },
      'probe with credentials',
    );

    const text = capture.lines.join('\n');
    expect(capture.lines.length).toBeGreaterThan(10);
    expect(text).toContain('probe with credentials');
    expect(text).toContain('dashboard write');
    for (const secret of [
      ...Object.values(TOKENS),
      HR_SECRET,
      HR_SECRET.slice('whsec_'.length),
      signed['webhook-signature'].slice('v1,'.length),
    ]) {
      expect(text, `"${secret}" in the logs`).not.toContain(secret);
    }
    // The URL is still logged, with the credential-like parameter's value redacted.
    expect(text).toContain('/v1/audit/verify?personId=p&token=[redacted]');
    expect(text).toContain('/v1/audit?access_token=[redacted]&x=1');
  });
});
