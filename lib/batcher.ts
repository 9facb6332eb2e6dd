/** One call for many: what each caller gets back, in the order they asked. */
export type BatchRun<I, O> = (inputs: readonly I[]) => Promise<readonly O[]>

export type Batcher<I, O> = (input: I) => Promise<O>

type Waiting<I, O> = { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }

/**
 * Coalesces the calls made during one turn of the event loop into one run, at most `maxBatch`
 * inputs each: under load, 32 reads that arrived together cost one query instead of 32 (one
 * round trip, one statement for PostgreSQL to execute, one pool checkout). A caller alone waits
 * only until the end of the current turn (setImmediate), so nothing is held back for company.
 * Each run starts after its callers asked, so it sees every change acknowledged before they did.
 * A failed run fails each of its callers with the same error.
 */
export const createBatcher = <I, O>(run: BatchRun<I, O>, maxBatch: number): Batcher<I, O> => {
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError('maxBatch must be a positive integer')
  let queue: Waiting<I, O>[] = []

  const flush = () => {
    const batch = queue
    queue = []
    if (batch.length === 0) return
    // Through a promise's executor: a run that throws instead of rejecting fails its callers too.
    new Promise<readonly O[]>((resolve) => resolve(run(batch.map((waiting) => waiting.input))))
      .then((outputs) => {
        if (outputs.length !== batch.length) throw new Error('A batch run must answer every input')
        batch.forEach((waiting, index) => waiting.resolve(outputs[index]))
      })
      .catch((error: unknown) => batch.forEach((waiting) => waiting.reject(error)))
  }

  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject })
      if (queue.length === 1) setImmediate(flush)
      if (queue.length >= maxBatch) flush()
    })
}
