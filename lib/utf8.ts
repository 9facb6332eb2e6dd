import { TextDecoder } from 'node:util'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Bytes as text; throws (a TypeError) on bytes that are not UTF-8 instead of replacing them. */
export const decodeStrictUtf8 = (bytes: Buffer): string => strictUtf8.decode(bytes)
