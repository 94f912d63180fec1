/**
 * Running work side by side without leaving any of it behind: the first error aborts the rest
 * (through a signal derived from the caller's) and is rethrown only once every piece has settled,
 * so a stage never returns, or fails, while its own children still run.
 */

/** Like Promise.all, but waits for every promise before it rethrows the first rejection. */
export async function allSettledOrThrow<T>(work: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** A signal that fires with `outer` or at the first failure (`fail`). */
function linked(outer?: AbortSignal): { signal: AbortSignal; fail: (error: unknown) => void } {
  const local = new AbortController();
  return { signal: outer ? AbortSignal.any([outer, local.signal]) : local.signal, fail: (error) => local.abort(error) };
}

/**
 * Starts the work `start` returns with a signal that also fires at its first failure; resolves
 * with every result, or rethrows the first error once all have settled.
 */
export async function together<T>(outer: AbortSignal | undefined, start: (signal: AbortSignal) => readonly Promise<T>[]): Promise<T[]> {
  const { signal, fail } = linked(outer);
  return allSettledOrThrow(
    start(signal).map((p) =>
      p.catch((error: unknown) => {
        fail(error);
        throw error;
      }),
    ),
  );
}

/**
 * Runs `work` over `items`, at most `limit` at a time, each with a signal that also fires at the
 * first failure. After the first error no further item is started, and the error is rethrown once
 * the running ones have settled.
 */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number, signal: AbortSignal) => Promise<void>, outer?: AbortSignal): Promise<void> {
  const { signal, fail } = linked(outer);
  let next = 0;
  let failed = false;
  const runners = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index, signal);
      } catch (error) {
        if (!failed) fail(error);
        failed = true;
        throw error;
      }
    }
  });
  await allSettledOrThrow(runners);
}
