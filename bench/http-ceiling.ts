import { spawn } from 'node:child_process'
import path from 'node:path'

const SERVER = path.join(__dirname, 'http-ceiling-server.js')

export type CeilingServer = Readonly<{ url: string; close: () => Promise<void> }>

/** Starts the bare node:http server in a child process, so it does not share the load generator's event loop. */
export const startHttpCeiling = (bodyBytes: number): Promise<CeilingServer> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER, String(bodyBytes)], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise<void>((done) => child.once('exit', () => done()))
    const close = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const line = output.split('\n')[0]
      if (!output.includes('\n')) return
      try {
        const { port } = JSON.parse(line) as { port: number }
        resolve({ url: `http://127.0.0.1:${port}`, close })
      } catch (error) {
        void close()
        reject(error)
      }
    })
    child.once('error', reject)
    void exited.then(() => reject(new Error(`the HTTP ceiling server exited before listening: ${output}`)))
  })
