import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rfc3339, ZERO_TIME } from './time'

test('rfc3339 prints UTC with nanoseconds: the milliseconds padded with six zeros', () => {
  assert.equal(rfc3339(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024-01-02T03:04:05.678000000Z')
  assert.equal(rfc3339(Date.UTC(2024, 11, 31, 23, 59, 59, 0)), '2024-12-31T23:59:59.000000000Z')
  assert.equal(rfc3339(Date.UTC(2024, 5, 1, 0, 0, 0, 7)), '2024-06-01T00:00:00.007000000Z')
  assert.equal(rfc3339(1), '1970-01-01T00:00:00.001000000Z')
})

test('rfc3339 prints Go\'s zero time, as Docker does, for "never" (0 or less)', () => {
  assert.equal(ZERO_TIME, '0001-01-01T00:00:00Z')
  assert.equal(rfc3339(0), '0001-01-01T00:00:00Z')
  assert.equal(rfc3339(-1), '0001-01-01T00:00:00Z')
  assert.equal(rfc3339(Number.NaN), '0001-01-01T00:00:00Z')
})

test('parseTimeNs: unix seconds to the nanosecond, Go durations before now (compound, every unit), RFC 3339; else undefined', async () => {
  const { parseTimeNs } = await import('./time')
  const now = 1_000_000
  assert.equal(parseTimeNs('1700000000'), 1_700_000_000_000_000_000n)
  assert.equal(parseTimeNs('1700000000.000000001'), 1_700_000_000_000_000_001n)
  assert.equal(parseTimeNs('1h30m', now), BigInt(now - 5_400_000) * 1_000_000n)
  assert.equal(parseTimeNs('10m', now), BigInt(now - 600_000) * 1_000_000n)
  assert.equal(parseTimeNs('2000\u00b5s', now), BigInt(now - 2) * 1_000_000n)
  assert.equal(parseTimeNs('2000us', now), BigInt(now - 2) * 1_000_000n)
  assert.equal(parseTimeNs('2000000ns', now), BigInt(now - 2) * 1_000_000n)
  assert.equal(parseTimeNs('2026-01-01T00:00:00Z'), BigInt(Date.parse('2026-01-01T00:00:00Z')) * 1_000_000n)
  assert.equal(parseTimeNs('soon'), undefined)
  assert.equal(parseTimeNs('10d'), undefined)
})
