// Starts the machine's PostgreSQL server once for the whole run, for the suites that also run
// against a real server (DATABASE_URL). TEST_DATABASE_URL, when set, is used instead.
// In CI a missing server is a failure; on a developer machine those suites are skipped, loudly.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

module.exports = async () => {
  if (process.env.TEST_DATABASE_URL) return
  const script = path.join(__dirname, '..', 'scripts', 'postgres-server.sh')
  try {
    execFileSync('bash', [script, 'find'], { stdio: 'ignore' })
  } catch {
    if (process.env.CI === 'true') throw new Error('CI needs the PostgreSQL server (apt-get install postgresql)')
    process.stderr.write('\n[tests] No PostgreSQL server installed: the DATABASE_URL suites are skipped.\n')
    return
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-test-pg-'))
  const url = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' }).trim()
  process.env.TEST_DATABASE_URL = url
  process.env.VAULT_TEST_PG_DIR = dir
}
