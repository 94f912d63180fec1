/**
 * Group commit: requests that arrive while a batch is being written are written together in the
 * next batch, so under load many requests share one transaction (one BEGIN/COMMIT and multi-row
 * inserts) instead of a transaction each. An idle system writes each request at once: there is no
 * timer and no added latency.
 *
 * `write` gets the items in arrival order and returns one result per item, in the same order. If a
 * batch of several fails, each of its items is retried alone, so one bad item fails only its own
 * request.
 *
 * @example
 *   const inserts = new GroupCommit((rows: Row[]) => insertAll(rows), { maxBatch: 200 });
 *   const id = await inserts.submit(row); // resolves once its batch has committed
 */
export class GroupCommit<T, R> {
  private queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private writing = false;
  private readonly maxBatch: number;
  /** Sizes of the batches written so far (for tests and metrics). */
  readonly batchSizes: number[] = [];

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    options: { maxBatch?: number } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 200;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.batchSizes.push(batch.length);
        if (this.batchSizes.length > 1000) this.batchSizes.splice(0, 500);
        try {
          const results = await this.write(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(results[i] as R));
        } catch (error) {
          if (batch.length === 1) {
            batch[0]?.reject(error);
            continue;
          }
          // Find the culprit: each item alone, so the others still succeed.
          for (const b of batch) {
            try {
              const [result] = await this.write([b.item]);
              b.resolve(result as R);
            } catch (single) {
              b.reject(single);
            }
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
