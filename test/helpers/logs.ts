// Checks on the vault's own output.

export const STACK_TRACE = /^\s+at\s+\S.*(:\d+:\d+\)?|\(native\)|<anonymous>)\s*$/m

/** Lines of the vault's output that tell of a crash or a stack trace (the first few). */
export const crashLines = (output: string): string[] =>
  output
    .split('\n')
    .filter((line) => STACK_TRACE.test(line) || /Unhandled|throw er;|^\w*Error\b|^error:|^Node\.js v/.test(line))
    .slice(0, 12)
