/** How much a logger writes: lines below its level are dropped. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export type LogFields = Record<string, string | number | boolean | null | undefined>

/** Structured JSON lines on stdout. Fields are metadata only: callers never pass values or keys. */
export type Logger = Readonly<{
  debug: (message: string, fields?: LogFields) => void
  info: (message: string, fields?: LogFields) => void
  warn: (message: string, fields?: LogFields) => void
  error: (message: string, fields?: LogFields) => void
  child: (fields: LogFields) => Logger
  /** Whether lines of this level are written, so callers can skip building them. */
  enabled: (at: LogLevel) => boolean
}>

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export const createLogger = (
  level: LogLevel,
  write: (line: string) => void = (line) => process.stdout.write(line),
  bound: LogFields = {},
): Logger => {
  const emit = (at: LogLevel) => (message: string, fields: LogFields = {}) => {
    if (RANK[at] < RANK[level]) return
    write(`${JSON.stringify({ time: new Date().toISOString(), level: at, msg: message, ...bound, ...fields })}\n`)
  }
  return Object.freeze({
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields: LogFields) => createLogger(level, write, { ...bound, ...fields }),
    enabled: (at: LogLevel) => RANK[at] >= RANK[level],
  })
}
