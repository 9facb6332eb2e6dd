import fs from 'node:fs'
import path from 'node:path'

/**
 * The advisory service (npm audit) cannot be reached from our build machines, so the installed
 * tree is checked against the advisories we looked up by hand (GitHub Advisory Database), kept
 * here. A lockfile that brings back a vulnerable version fails this test.
 */
type Advisory = Readonly<{ name: string; introduced: string; fixed: string; id: string }>

const ADVISORIES: readonly Advisory[] = [
  { name: '@babel/runtime', introduced: '0.0.0', fixed: '7.26.10', id: 'GHSA-968p-4wvh-cqc8 (reSolve pins 7.14.0)' },
  { name: 'nanoid', introduced: '3.0.0', fixed: '3.3.8', id: 'GHSA-mwcw-c2x4-8c55 (reSolve pins 3.2.0)' },
  { name: 'uuid', introduced: '3.0.0', fixed: '11.1.1', id: 'GHSA-w5hq-g745-h8pq (reSolve pins 8.3.2)' },
  { name: 'pg', introduced: '0.0.0', fixed: '8.8.0', id: 'reSolve pins 8.5.1 (unmaintained line)' },
  { name: 'form-data', introduced: '4.0.0', fixed: '4.0.4', id: 'GHSA-fjxv-7rqg-78g4 (critical)' },
  { name: 'express', introduced: '0.0.0', fixed: '4.20.0', id: 'GHSA-qw6h-vgh9-j6wx' },
  { name: 'body-parser', introduced: '2.0.0', fixed: '2.2.1', id: 'GHSA-wqch-xfxh-vrr4' },
  { name: 'path-to-regexp', introduced: '8.0.0', fixed: '8.4.0', id: 'GHSA-j3q9-mxjg-w52f' },
  { name: 'qs', introduced: '0.0.0', fixed: '6.14.1', id: 'GHSA-6rw7-vpxm-498p' },
  { name: 'cookie', introduced: '0.0.0', fixed: '0.7.0', id: 'GHSA-pxg6-pf52-xh8x' },
  { name: 'jose', introduced: '3.0.0', fixed: '4.15.5', id: 'GHSA-hhhv-q57g-882q' },
  { name: 'cross-spawn', introduced: '7.0.0', fixed: '7.0.5', id: 'GHSA-3xgq-45jj-v275' },
  { name: 'braces', introduced: '0.0.0', fixed: '3.0.3', id: 'GHSA-grv7-fg5c-xmjg' },
  { name: 'micromatch', introduced: '0.0.0', fixed: '4.0.8', id: 'GHSA-952p-6rrq-rcjv' },
  { name: 'semver', introduced: '7.0.0', fixed: '7.5.2', id: 'GHSA-c2qf-rxjj-qqgw' },
  { name: 'debug', introduced: '4.4.2', fixed: '4.4.3', id: 'compromised release 4.4.2' },
]

const parse = (version: string): number[] => version.split(/[.+-]/).slice(0, 3).map(Number)
const below = (a: string, b: string): boolean => {
  const [x, y] = [parse(a), parse(b)]
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i]
  return false
}

const lock = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>
}
const installed = Object.entries(lock.packages)
  .filter(([location]) => location.includes('node_modules/'))
  .map(([location, entry]) => ({ name: location.slice(location.lastIndexOf('node_modules/') + 13), version: entry.version ?? '0.0.0' }))

describe('the installed dependency tree', () => {
  it.each(ADVISORIES)('has no version of $name affected by $id', (advisory) => {
    const affected = installed.filter(
      (pkg) => pkg.name === advisory.name && !below(pkg.version, advisory.introduced) && below(pkg.version, advisory.fixed),
    )
    expect(affected).toEqual([])
  })

  it('keeps reSolve on one version for every @resolve-js package', () => {
    const versions = new Set(installed.filter((pkg) => pkg.name.startsWith('@resolve-js/')).map((pkg) => pkg.version))
    expect([...versions]).toEqual(['0.33.14'])
  })
})
