// Small text helpers the test machinery shares.

/** `text` cut to `length` characters, saying how long it was. */
export const clip = (text: string, length = 160): string =>
  text.length > length ? `${text.slice(0, length)}...(${text.length} chars)` : text

/** The JSON value `value` holds, or undefined when it holds none (empty text included). */
export const parseJson = (value: string): unknown => {
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}
