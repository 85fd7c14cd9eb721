/**
 * A webhook receiver for tests: a node:http server that verifies Standard
 * Webhooks signatures with the `standardwebhooks` library, dedupes on
 * webhook-id like a careful receiver (a repeated id is not applied again and
 * gets the first answer again), keeps per-person access, and can be taken
 * down (any status) for a while, for every effect or only some.
 *
 * It speaks the v1.1 receiver protocol (docs/connectors.md): `disable` and
 * `enable` touch only the account, `reduce` and `revoke` answer what they
 * removed. `legacy` makes it a receiver written before v1.1: it refuses the
 * effects it does not know with 400 and answers every write with an empty 204.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedCall {
  id: string;
  effect: string;
  personId: string;
  grants: { id: string }[];
  cycle: number;
  /** False when the id was seen before (a retry): not applied again. */
  applied: boolean;
}

type ReceiverGrant = { id: string; role: string; privileged: boolean };
export interface ReceiverAccess {
  active: boolean;
  grants: ReceiverGrant[];
  /** What `reduce` took away, for `restore`. */
  removed?: ReceiverGrant[];
}

export interface WebhookReceiver {
  url: string;
  secret: string;
  /** Every request that passed signature verification. */
  calls: ReceivedCall[];
  /** Every request's webhook-id and effect, signed or not, answered or not. */
  attempts: { id: string; effect: string; personId: string }[];
  /** Requests refused for a bad or missing signature. */
  rejected: number;
  /** Answer this status to every request while set. */
  down?: number | undefined;
  /** When set, `down` applies only to this effect (or these effects). */
  downOnly?: string | readonly string[] | undefined;
  /** Behave like a receiver written before v1.1 (see the module comment). */
  legacy: boolean;
  /** Per person: what the receiver's system still grants. */
  access: Map<string, ReceiverAccess>;
  /** Applied effects for one person, in order. */
  appliedFor(personId: string): string[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string, port = 0): Promise<WebhookReceiver> {
  const wh = new Webhook(secret);
  /** First answer per webhook-id, replayed for a repeat. */
  const seen = new Map<string, { status: number; body?: unknown }>();
  const downFor = (effect: string) => {
    const only = receiver.downOnly;
    if (only === undefined) return true;
    return typeof only === 'string' ? only === effect : only.includes(effect);
  };
  const receiver: WebhookReceiver = {
    url: '',
    secret,
    calls: [],
    attempts: [],
    rejected: 0,
    legacy: false,
    access: new Map(),
    appliedFor: (personId) =>
      receiver.calls.filter((c) => c.personId === personId && c.applied).map((c) => c.effect),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const reply = (status: number, body?: unknown) => {
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      let effect = '?';
      let personId = '?';
      try {
        const peek = JSON.parse(raw) as { effect?: unknown; person?: { id?: unknown } };
        effect = String(peek.effect);
        personId = String(peek.person?.id);
      } catch {
        // logged as '?'
      }
      receiver.attempts.push({ id: String(req.headers['webhook-id']), effect, personId });
      if (receiver.down && downFor(effect)) return reply(receiver.down, { message: 'down' });
      let payload: { effect: string; person: { id: string }; grants: { id: string }[]; cycle: number };
      try {
        payload = wh.verify(raw, req.headers as Record<string, string>) as typeof payload;
      } catch {
        receiver.rejected++;
        return reply(401, { message: 'bad signature' });
      }
      const id = String(req.headers['webhook-id']);
      const first = seen.get(id);
      receiver.calls.push({
        id,
        effect: payload.effect,
        personId: payload.person.id,
        grants: payload.grants,
        cycle: payload.cycle,
        applied: first === undefined,
      });
      if (first) return reply(first.status, first.body);
      const answer = apply(payload.effect, receiver.access.get(payload.person.id));
      // A query is answered afresh every time; a write's answer is kept for a repeat.
      if (payload.effect !== 'verify') seen.set(id, answer);
      reply(answer.status, answer.body);
    });
  });

  function apply(effect: string, state: ReceiverAccess | undefined): { status: number; body?: unknown } {
    const known = ['verify', 'reduce', 'restore', 'revoke'];
    if (receiver.legacy && !known.includes(effect))
      return { status: 400, body: { message: 'unknown effect' } };
    if (effect === 'verify') {
      if (!state) return { status: 200, body: { exists: false } };
      return { status: 200, body: { exists: true, active: state.active, grants: state.grants } };
    }
    if (!state) return receiver.legacy ? { status: 204 } : { status: 200, body: { exists: false } };
    let removed: ReceiverGrant[] = [];
    switch (effect) {
      case 'reduce':
        removed = state.grants.filter((g) => g.privileged);
        state.removed = [...(state.removed ?? []), ...removed];
        state.grants = state.grants.filter((g) => !g.privileged);
        break;
      case 'restore':
        state.grants.push(...(state.removed ?? []));
        state.removed = [];
        break;
      case 'revoke':
        removed = state.grants;
        state.active = false;
        state.grants = [];
        break;
      case 'disable':
        state.active = false;
        break;
      case 'enable':
        state.active = true;
        break;
      default:
        return { status: 400, body: { message: 'unknown effect' } };
    }
    if (receiver.legacy || (effect !== 'reduce' && effect !== 'revoke')) return { status: 204 };
    return { status: 200, body: { removed } };
  }
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lastday`;
  return receiver;
}
