// The events API's time parameters: what parseEventTime adds to util/time's parseTimeNs (whose own test covers unix
// seconds, Go durations and RFC 3339): the forms pass through, and anything else is a 400 naming the parameter.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseEventTime } from './events'
import { parseTimeNs } from '../../util/time'

test('every form parseTimeNs takes passes through unchanged', () => {
  const now = 1_000_000
  for (const v of ['1700000000.5', '1h30m', '2000\u00b5s', '2026-01-01T00:00:00Z']) {
    assert.equal(parseEventTime('since', v, now), parseTimeNs(v, now))
  }
})

test('anything else is a 400 naming the parameter', () => {
  assert.throws(() => parseEventTime('until', 'soon'), (e: Error & { httpStatus?: number }) => {
    assert.equal(e.message, 'invalid value for query parameter "until": "soon" is not a unix timestamp or RFC 3339 time')
    assert.equal(e.httpStatus, 400)
    return true
  })
})
