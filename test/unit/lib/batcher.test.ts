import fc from 'fast-check'
import { createBatcher } from '../../../lib/batcher'

// The batcher is the component under test; the runs handed to it are plain functions that
// answer from their inputs (what the read query does with its keys) and record what they got.

const recordingRun = () => {
  const runs: number[][] = []
  const run = async (inputs: readonly number[]) => {
    runs.push([...inputs])
    await new Promise((resolve) => setImmediate(resolve))
    return inputs.map((input) => input * 10)
  }
  return { runs, run }
}

describe('batching calls into runs', () => {
  it('answers calls made together with one run, each caller its own answer', async () => {
    const { runs, run } = recordingRun()
    const batched = createBatcher(run, 64)
    await expect(Promise.all([3, 1, 2, 3].map(batched))).resolves.toEqual([30, 10, 20, 30])
    expect(runs).toEqual([[3, 1, 2, 3]])
  })

  it('runs a caller alone without waiting for company', async () => {
    const { runs, run } = recordingRun()
    const batched = createBatcher(run, 64)
    await expect(batched(7)).resolves.toBe(70)
    await expect(batched(8)).resolves.toBe(80)
    expect(runs).toEqual([[7], [8]])
  })

  it('never puts more than maxBatch inputs in one run', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), async (inputs, maxBatch) => {
        const { runs, run } = recordingRun()
        const batched = createBatcher(run, maxBatch)
        expect(await Promise.all(inputs.map(batched))).toEqual(inputs.map((input) => input * 10))
        expect(runs.every((inputs) => inputs.length <= maxBatch)).toBe(true)
        expect(runs.flat()).toEqual(inputs)
        expect(runs.length).toBe(Math.ceil(inputs.length / maxBatch))
      }),
      { numRuns: 100 },
    )
  })

  it('fails every caller of a failed run with its error, and runs the next batch afresh', async () => {
    let fail = true
    const batched = createBatcher(async (inputs: readonly number[]) => {
      if (fail) throw new Error('store unavailable')
      return inputs
    }, 64)
    const failed = await Promise.allSettled([1, 2, 3].map(batched))
    expect(failed.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as Error).message : 'answered'))).toEqual([
      'store unavailable',
      'store unavailable',
      'store unavailable',
    ])
    fail = false
    await expect(Promise.all([4, 5].map(batched))).resolves.toEqual([4, 5])
  })

  it('fails every caller of a run that throws instead of rejecting', async () => {
    const batched = createBatcher((): Promise<readonly number[]> => {
      throw new Error('thrown')
    }, 2)
    // Three callers: two flushed at once when the batch is full, one at the end of the turn.
    const outcomes = await Promise.allSettled([1, 2, 3].map(batched))
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected'])
  })

  it('fails the callers of a run that does not answer each of them', async () => {
    const batched = createBatcher(async (inputs: readonly number[]) => inputs.slice(1), 64)
    await expect(Promise.all([1, 2].map(batched))).rejects.toThrow('A batch run must answer every input')
  })

  it('refuses a batch size that is not a positive integer', () => {
    for (const maxBatch of [0, -1, 1.5, Number.NaN]) {
      expect(() => createBatcher(async (inputs: readonly number[]) => inputs, maxBatch)).toThrow(RangeError)
    }
  })
})
