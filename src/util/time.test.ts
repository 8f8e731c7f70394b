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
