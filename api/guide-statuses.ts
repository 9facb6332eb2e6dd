import type { OutcomeKind } from '../app/outcomes'

/**
 * The vault developer guide's status for every outcome, as REST answers it and as a function
 * puts it in its body's `statusCode` (the guide gives both doors the same codes). 204: the
 * secret existed and is gone; 205: there was nothing to delete. Either way it is gone.
 */
export const GUIDE_STATUS: Readonly<Record<OutcomeKind, number>> = Object.freeze({
  done: 200,
  created: 201,
  deleted: 204,
  absent: 205,
  invalid: 400,
  // The guide answers a key that already exists with 400, not 409.
  'already-exists': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-many-requests': 429,
  internal: 500,
  unavailable: 503,
})
