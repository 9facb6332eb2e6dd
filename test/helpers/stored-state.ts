import type { Reply } from './api'
import { connectToStore, dumpStore } from './database'
import type { VaultSetup } from './vault-process'

// What is stored, read back to compare before and after: secrets through the API with their
// history, and the whole store as text.

export type Stored = Array<{ path: string; status: number; body: unknown; history: { status: number; body: unknown } }>

/** Each path read, and its history, through `send`. */
export const readPaths = (send: (method: string, path: string) => Promise<Reply>, paths: readonly string[]): Promise<Stored> =>
  Promise.all(
    paths.map(async (path) => {
      const [read, history] = await Promise.all([send('GET', path), send('GET', `${path}/history`)])
      return { path, status: read.status, body: read.body, history: { status: history.status, body: history.body } }
    }),
  )

/** The whole store of the vault set up by `setup`, as text (dumpStore), through a connection of its own. */
export const dumpOf = async (setup: VaultSetup): Promise<string> => {
  const client = await connectToStore(setup)
  try {
    return await dumpStore(client)
  } finally {
    await client.end()
  }
}
