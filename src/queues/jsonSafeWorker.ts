/**
 * A BullMQ Worker that survives a job whose `data` is not JSON.
 *
 * Any BullMQ client in any language may add jobs to `hr-events` (contract
 * section 2), and a raw `HSET` can store anything. BullMQ parses `data` in
 * `Job.fromJSON` while *fetching* the job, after the job has already moved to
 * `active`: the parse error escapes the worker's fetch loop, no processor runs,
 * nothing fails the job, and the stalled check puts it back to `wait` for ever
 * (lastday sets `maxStalledCount` to never give up on a stalled job).
 *
 * Here such a job is built with the raw text kept aside, handed to
 * `onUnparsableData` (which keeps it, e.g. as a rejected event), stored back as
 * JSON (`{"notJson": raw}`, so every later reader of the job — the dashboard,
 * `Queue.getJobs` — can load it), and failed with an UnrecoverableError: once,
 * not retried, like any other invalid input.
 */
import {
  type Job,
  type JobJson,
  type Processor,
  UnrecoverableError,
  Worker,
  type WorkerOptions,
} from 'bullmq';

/** Called before the job fails; if it throws, the job fails with that error instead (and may be retried). */
export type UnparsableDataHandler = (job: Job, raw: string, reason: string) => Promise<void>;

export interface JsonSafeWorkerOptions extends WorkerOptions {
  onUnparsableData?: UnparsableDataHandler;
}

/** Parse errors quote the input; a bounded reason keeps failedReason and logs small. */
const REASON_MAX_CHARS = 300;

export class JsonSafeWorker<DataType = unknown, ResultType = unknown> extends Worker<DataType, ResultType> {
  readonly #onUnparsableData: UnparsableDataHandler | undefined;
  /** Jobs fetched with data that did not parse, and why. */
  readonly #unparsable = new WeakMap<Job, { raw: string; reason: string }>();

  constructor(name: string, processor: Processor<DataType, ResultType>, options: JsonSafeWorkerOptions) {
    const { onUnparsableData, ...workerOptions } = options;
    super(name, processor, workerOptions);
    this.#onUnparsableData = onUnparsableData;
  }

  protected override createJob(json: JobJson, jobId: string): Job<DataType, ResultType> {
    try {
      return super.createJob(json, jobId);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      // Built with empty data so the rest of BullMQ's bookkeeping (opts, attempts, lock) works.
      const job = super.createJob({ ...json, data: '{}' }, jobId);
      const reason = `job data is not JSON: ${err.message}`.slice(0, REASON_MAX_CHARS);
      this.#unparsable.set(job, { raw: json.data, reason });
      return job;
    }
  }

  protected override async callProcessJob(
    job: Job<DataType, ResultType>,
    token: string,
    signal?: AbortSignal,
  ): Promise<ResultType> {
    const unparsable = this.#unparsable.get(job);
    if (!unparsable) return super.callProcessJob(job, token, signal);
    await this.#onUnparsableData?.(job, unparsable.raw, unparsable.reason);
    await job.updateData({ notJson: unparsable.raw } as DataType);
    // Not retried: the same bytes fail the same way.
    throw new UnrecoverableError(unparsable.reason);
  }
}
