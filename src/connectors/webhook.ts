/**
 * Webhook connector: for anything without SCIM, lastday POSTs each effect to
 * an internal service, signed with Standard Webhooks (webhook-id,
 * webhook-timestamp, webhook-signature over the raw body). The receiver
 * protocol is in docs/connectors.md; in short:
 *
 * Body: `{"effect", "person": {id, email, name}, "grants": [...], "cycle": n}`.
 * A 2xx answer means done.
 * - `verify` is how lastday reads access there: the receiver may answer
 *   `{"exists"?, "active"?, "grants"?: [{id, role?, privileged?}]}`; an empty
 *   2xx body means nothing is left.
 * - `disable` / `enable` (v1.1) touch the account only. `revoke` disables
 *   first with `disable`, so it never waits on a `verify`. A receiver written
 *   before v1.1 refuses `disable` with a 4xx: lastday then sends `revoke`,
 *   which such a receiver takes as "disable and remove everything".
 * - `reduce` (privileged grants) and `revoke` (everything left) are
 *   remove-and-report: the receiver knows what they cover on its side, and may
 *   answer `{"removed": [...]}`. lastday sends them whether or not its `verify`
 *   before them succeeded, with the grants that read reported (or `[]`).
 * - Any answer may say `{"exists": false}`: no account there.
 *
 * Writes carry a webhook-id derived from (connector, person, cycle, plan
 * version, effect, and the milestone on whose behalf it is sent when that
 * differs): every retry of the same effect has the same id, so a receiver that
 * dedupes on it never applies one twice. The plan version is in it because
 * `reduce` and `restore` can happen again in one cycle (an extension
 * restores, the new last day reduces again); the milestone is in it so the
 * re-disable `verify` sends on drift is not taken for the one `revoke` sent.
 * `verify` is a query and gets a fresh id per call: receivers must answer it
 * every time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { AccessState, Connector, Grant, PersonRef, RemovalReport, RemovalScope } from './connector.ts';
import { ConnectorError } from './connector.ts';
import {
  connectorHttpClient,
  type HttpClient,
  type HttpResponse,
  responseDetail,
  type RetryPolicy,
  statusLine,
} from './httpClient.ts';

export type WebhookEffect = 'reduce' | 'restore' | 'revoke' | 'verify' | 'disable' | 'enable';

export interface WebhookConnectorConfig {
  name: string;
  url: string;
  timeoutMs: number;
  concurrency: number;
}

export interface WebhookConnectorOptions {
  /** The Standard Webhooks secret (`whsec_…`, read from `secretEnv` by the registry). */
  secret: string;
  retry?: Partial<RetryPolicy>;
  now?: () => Date;
}

/** What a receiver may post back (all fields optional). */
interface Answer {
  exists?: unknown;
  active?: unknown;
  grants?: unknown;
  removed?: unknown;
}

/** A refusal that may mean "I do not know this effect" (not credentials, not overload). */
function mayBeUnknownEffect(err: unknown): boolean {
  return err instanceof ConnectorError && !err.retryable && [400, 404, 405, 422].includes(err.status ?? 0);
}

export class WebhookConnector implements Connector {
  readonly type = 'webhook';
  readonly name: string;
  readonly http: HttpClient;
  private readonly signer: Webhook;
  private readonly now: () => Date;

  constructor(
    private readonly config: WebhookConnectorConfig,
    options: WebhookConnectorOptions,
  ) {
    this.name = config.name;
    this.signer = new Webhook(options.secret);
    this.now = options.now ?? (() => new Date());
    this.http = connectorHttpClient(config, options.retry);
  }

  async read(person: PersonRef): Promise<AccessState> {
    const answer = await this.post('verify', person, []);
    if (answer === undefined) return { exists: true, active: false, grants: [] };
    if (answer.exists === false) return { exists: false, active: false, grants: [] };
    return { exists: true, active: answer.active === true, grants: this.grantsFrom(answer.grants) };
  }

  /** Always posts, even with no grants listed: the receiver knows what is privileged on its side. */
  async removeGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    await this.post('reduce', person, grants);
  }

  async restoreGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    await this.post('restore', person, grants);
  }

  async disable(person: PersonRef): Promise<boolean> {
    let answer: Answer | undefined;
    try {
      answer = await this.post('disable', person, []);
    } catch (err) {
      if (!mayBeUnknownEffect(err)) throw err;
      // A receiver from before v1.1: its `revoke` disables (and removes everything).
      answer = await this.post('revoke', person, []);
    }
    return answer?.exists !== false;
  }

  async enable(person: PersonRef): Promise<boolean> {
    return (await this.post('enable', person, []))?.exists !== false;
  }

  /** `reduce` or `revoke` in one call; the receiver's `removed` list, else what lastday asked for. */
  async removeAndReport(
    person: PersonRef,
    scope: RemovalScope,
    known: readonly Grant[],
  ): Promise<RemovalReport> {
    const answer = await this.post(scope === 'privileged' ? 'reduce' : 'revoke', person, known);
    if (answer?.exists === false) return { exists: false, removed: [] };
    const reported = answer && Array.isArray(answer.removed) ? this.grantsFrom(answer.removed) : undefined;
    return { exists: true, removed: reported ?? [...known] };
  }

  /** Stable id of one effect for one person in one plan (see the module comment). */
  messageId(person: PersonRef, effect: WebhookEffect): string {
    if (effect === 'verify') return `msg_${randomUUID()}`;
    // Ids of effects sent on their own milestone's behalf are those of earlier versions.
    const own = person.effect === undefined || person.effect === effect;
    const digest = createHash('sha256')
      .update(
        JSON.stringify([
          this.name,
          person.id,
          person.cycle ?? 1,
          person.planVersion ?? 0,
          effect,
          ...(own ? [] : [person.effect]),
        ]),
      )
      .digest('hex')
      .slice(0, 32);
    return `msg_${digest}`;
  }

  private async post(
    effect: WebhookEffect,
    person: PersonRef,
    grants: readonly Grant[],
  ): Promise<Answer | undefined> {
    const body = JSON.stringify({
      effect,
      person: { id: person.id, email: person.email, name: person.name },
      grants,
      cycle: person.cycle ?? 1,
    });
    const id = this.messageId(person, effect);
    return this.http.withRetries(async () => {
      // Signed per try: the timestamp must be fresh for the receiver's tolerance window.
      const at = this.now();
      const headers = {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': this.signer.sign(id, at, body),
      };
      const res = await this.http.send({ method: 'POST', url: this.config.url, headers, body });
      if (res.status < 200 || res.status >= 300) {
        throw new ConnectorError(
          `${this.name}: ${effect} answered ${statusLine(res.status)}`,
          false,
          res.status,
          responseDetail(res, headers),
        );
      }
      const answer = answerOf(res);
      if (effect === 'verify' && answer === undefined && notAnAnswer(res)) {
        // A proxy's HTML page, or JSON that is no answer object: a read that
        // failed, and taking it for "inactive, no grants" would pass drift for
        // clean. An empty body (the protocol's "nothing left") and a bare text
        // acknowledgement (`ok`, as minimal receivers send to every effect)
        // keep their meaning.
        throw new ConnectorError(
          `${this.name}: verify answered ${statusLine(res.status)} with a body that is not a JSON object`,
          false,
          res.status,
          responseDetail(res, headers),
        );
      }
      return answer;
    });
  }

  private grantsFrom(raw: unknown): Grant[] {
    if (!Array.isArray(raw)) return [];
    return raw.flatMap((g): Grant[] => {
      if (typeof g !== 'object' || g === null) return [];
      const { id, role, privileged } = g as { id?: unknown; role?: unknown; privileged?: unknown };
      if (typeof id !== 'string' || id === '') return [];
      return [
        {
          id,
          system: this.name,
          role: typeof role === 'string' && role ? role : id,
          privileged: privileged === true,
        },
      ];
    });
  }
}

/** A 2xx body to `verify` that says something other than an answer: HTML, or JSON that is no object. */
function notAnAnswer(res: HttpResponse): boolean {
  const text = res.text.trim();
  if (text === '') return false;
  const type = res.headers.get('content-type') ?? '';
  return /html|xml/i.test(type) || text.startsWith('<') || res.json !== undefined;
}

function answerOf(res: HttpResponse): Answer | undefined {
  return typeof res.json === 'object' && res.json !== null && !Array.isArray(res.json)
    ? (res.json as Answer)
    : undefined;
}
