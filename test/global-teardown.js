const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

module.exports = async () => {
  const dir = process.env.VAULT_TEST_PG_DIR
  if (!dir) return
  execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'postgres-server.sh'), 'stop', dir], { stdio: 'ignore' })
  fs.rmSync(dir, { recursive: true, force: true })
}
