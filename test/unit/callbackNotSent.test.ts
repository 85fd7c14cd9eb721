/**
 * Which failed callback calls may be retried without risking a second success
 * (src/guard/callback.ts `wasNotSent`): only failures before any byte of the
 * request can have left. Real sockets on loopback, real fetch errors.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callFailureReason, wasNotSent } from '../../src/guard/callback.ts';

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );

describe('wasNotSent', () => {
  let server: Server;
  let url: string;
  let received = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      received++;
      if (req.url === '/drop')
        req.socket.destroy(); // a peer that fails halfway
      // '/slow': never answered
      else if (req.url !== '/slow') res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('a refused connection never reached the far side', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const err = await failure(fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }));
    expect(callFailureReason(err)).toBe('network error (ECONNREFUSED)');
    expect(wasNotSent(err)).toBe(true);
  });

  it('a connection dropped after the request arrived may have acted', async () => {
    const before = received;
    const err = await failure(fetch(`${url}/drop`, { method: 'POST', body: '{}' }));
    expect(received).toBe(before + 1);
    expect(wasNotSent(err)).toBe(false);
  });

  it('no answer within the timeout may have acted', async () => {
    const err = await failure(
      fetch(`${url}/slow`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) }),
    );
    expect(callFailureReason(err)).toBe('timeout');
    expect(wasNotSent(err)).toBe(false);
  });

  it('reads TLS handshake and connect-phase codes, and every address of a happy-eyeballs failure', () => {
    const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });
    expect(wasNotSent(fetchFailed({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe(true);
    expect(wasNotSent(fetchFailed({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))).toBe(true);
    expect(wasNotSent(fetchFailed({ code: 'UND_ERR_CONNECT_TIMEOUT' }))).toBe(true);
    expect(wasNotSent(fetchFailed({ code: 'ECONNRESET' }))).toBe(false);
    expect(wasNotSent(fetchFailed({ code: 'UND_ERR_SOCKET' }))).toBe(false);
    expect(wasNotSent(fetchFailed(undefined))).toBe(false);
    const many = (codes: string[]) =>
      fetchFailed(
        Object.assign(new AggregateError(codes.map((code) => Object.assign(new Error(code), { code }))), {
          code: codes[0],
        }),
      );
    expect(wasNotSent(many(['ECONNREFUSED', 'EHOSTUNREACH']))).toBe(true);
    expect(wasNotSent(many(['ECONNREFUSED', 'ECONNRESET']))).toBe(false);
  });
});
