// The events API's time parameters: unix seconds with fractions, Go durations before now (podman sends those), RFC 3339.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseEventTime } from './events'

test('unix seconds, fractions to the nanosecond', () => {
  assert.equal(parseEventTime('since', '1700000000'), 1_700_000_000_000_000_000n)
  assert.equal(parseEventTime('since', '1700000000.5'), 1_700_000_000_500_000_000n)
})

test('Go durations before now, every unit Go prints (µs included, written with U+00B5)', () => {
  const now = 1_000_000
  assert.equal(parseEventTime('since', '1h30m', now), BigInt(now - 5_400_000) * 1_000_000n)
  assert.equal(parseEventTime('since', '2000\u00b5s', now), BigInt(now - 2) * 1_000_000n)
  assert.equal(parseEventTime('since', '2000us', now), BigInt(now - 2) * 1_000_000n)
  assert.equal(parseEventTime('since', '2s', now), BigInt(now - 2000) * 1_000_000n)
})

test('RFC 3339; anything else is a 400 naming the parameter', () => {
  assert.equal(parseEventTime('until', '2026-01-01T00:00:00Z'), BigInt(Date.parse('2026-01-01T00:00:00Z')) * 1_000_000n)
  assert.throws(() => parseEventTime('until', 'soon'), /invalid value for query parameter "until": "soon" is not a unix timestamp or RFC 3339 time/)
})
