import fs from 'node:fs'

/** The parts of a V8 .cpuprofile (node --cpu-prof) that a self-time summary needs. */
type CpuProfile = {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>
  samples: number[]
  timeDeltas: number[]
}

export type SelfTime = Readonly<{ name: string; ms: number; share: number }>

export type ProfileSummary = Readonly<{ totalMs: number; functions: SelfTime[]; areas: SelfTime[] }>

// Where a function lives, coarsely: a package, a node built-in, the vault, or V8's own buckets.
const areaOf = (url: string, functionName: string): string => {
  const modules = url.lastIndexOf('node_modules/')
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  if (url.startsWith('node:')) return url.split('/')[0]
  if (url.includes('/dist/')) return 'vault (dist/)'
  return url === '' ? functionName || '(native)' : url
}

const shortUrl = (url: string): string => {
  const modules = url.lastIndexOf('node_modules/')
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length)
  const dist = url.indexOf('/dist/')
  return dist >= 0 ? url.slice(dist + 1) : url
}

const top = (totals: Map<string, number>, totalMs: number, count: number): SelfTime[] =>
  [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms, share: totalMs > 0 ? ms / totalMs : 0 }))

/** Self time by function and by area, from the samples (idle time left out of the total). */
export const summarizeProfile = (file: string, count = 20): ProfileSummary => {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const functions = new Map<string, number>()
  const areas = new Map<string, number>()
  let totalMs = 0
  profile.samples.forEach((id, index) => {
    const frame = byId.get(id)
    const ms = (profile.timeDeltas[index] ?? 0) / 1000
    if (frame === undefined || frame.functionName === '(idle)') return
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`.trim()
    functions.set(name, (functions.get(name) ?? 0) + ms)
    const area = areaOf(frame.url, frame.functionName)
    areas.set(area, (areas.get(area) ?? 0) + ms)
    totalMs += ms
  })
  return { totalMs, functions: top(functions, totalMs, count), areas: top(areas, totalMs, count) }
}

/** The summary as two markdown tables. */
export const renderSummary = (title: string, summary: ProfileSummary): string => {
  const row = (entry: SelfTime) => `| ${entry.name.replace(/\|/g, '\\|')} | ${entry.ms.toFixed(0)} | ${(entry.share * 100).toFixed(1)}% |`
  return [
    `#### ${title}: ${(summary.totalMs / 1000).toFixed(1)} s of CPU on the vault's main thread (idle left out)`,
    '',
    '| self time by area | ms | share |',
    '|---|---:|---:|',
    ...summary.areas.slice(0, 10).map(row),
    '',
    '| self time by function | ms | share |',
    '|---|---:|---:|',
    ...summary.functions.map(row),
  ].join('\n')
}
