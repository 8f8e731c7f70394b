import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseDetachKeys, formatDetachKeys, DetachMatcher } from './detach-keys'
import { EngineError } from '../../errors'

const P = 0x10 // ctrl-p
const Q = 0x11 // ctrl-q

function rejects (fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof EngineError && err.code === 'INVALID_ARGUMENT' && err.message === message)
}

test('parseDetachKeys: podman\'s syntax to bytes; empty disables', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [P, Q])
  assert.deepEqual([...parseDetachKeys('ctrl-a')], [1])
  assert.deepEqual([...parseDetachKeys('CTRL-Z')], [26])
  assert.deepEqual([...parseDetachKeys('a,b')], [0x61, 0x62])
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')], [0, 27, 28, 29, 30, 31])
  assert.deepEqual([...parseDetachKeys('DEL')], [0x7f])
  assert.deepEqual([...parseDetachKeys(' ctrl-x , y ')], [24, 0x79])
  assert.equal(parseDetachKeys('').length, 0)
  rejects(() => parseDetachKeys('ctrl-'), 'invalid detach keys "ctrl-": "ctrl-" is not a key (use a single character or ctrl-<key>)')
  rejects(() => parseDetachKeys('ab'), 'invalid detach keys "ab": "ab" is not a key (use a single character or ctrl-<key>)')
  rejects(() => parseDetachKeys('ctrl-1'), 'invalid detach keys "ctrl-1": unknown key "ctrl-1"')
})

test('formatDetachKeys writes bytes back in podman\'s syntax', () => {
  assert.equal(formatDetachKeys(parseDetachKeys('ctrl-p,ctrl-q')), 'ctrl-p,ctrl-q')
  assert.equal(formatDetachKeys(Buffer.from([0, 0x61])), 'ctrl-@,a')
  assert.equal(formatDetachKeys(Buffer.alloc(0)), '')
})

// Feeds chunks; returns everything forwarded and whether (and after which chunk) it detached.
function feed (keys: string, chunks: Array<number[] | string>): { forwarded: number[], detachedAt: number, held: number[] } {
  const m = new DetachMatcher(parseDetachKeys(keys))
  const forwarded: number[] = []
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]
    const r = m.scan(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))
    forwarded.push(...r.forward)
    if (r.detached) return { forwarded, detachedAt: i, held: [] }
  }
  return { forwarded, detachedAt: -1, held: [...m.flush()] }
}

test('the sequence detaches whether it arrives in one read or split over several', () => {
  assert.deepEqual(feed('ctrl-p,ctrl-q', [[0x61, P, Q, 0x62]]), { forwarded: [0x61], detachedAt: 0, held: [] })
  assert.deepEqual(feed('ctrl-p,ctrl-q', ['ab', [P], [Q]]), { forwarded: [0x61, 0x62], detachedAt: 2, held: [] })
  assert.deepEqual(feed('ctrl-a', ['xy', [1]]), { forwarded: [0x78, 0x79], detachedAt: 1, held: [] })
})

test('a broken sequence forwards every byte, in order, exactly once', () => {
  assert.deepEqual(feed('ctrl-p,ctrl-q', [[P, 0x61, Q]]), { forwarded: [P, 0x61, Q], detachedAt: -1, held: [] })
  assert.deepEqual(feed('ctrl-p,ctrl-q', [[P], 'x', [Q]]), { forwarded: [P, 0x78, Q], detachedAt: -1, held: [] })
  // A held ctrl-p released into a chunk of the same length must come first, and not twice.
  assert.deepEqual(feed('ctrl-p,ctrl-q', [[P], [0x78, P], 'y']), { forwarded: [P, 0x78, P, 0x79], detachedAt: -1, held: [] })
  // ctrl-p ctrl-p ctrl-q: the first ctrl-p goes through, the other two detach.
  assert.deepEqual(feed('ctrl-p,ctrl-q', [[P, P, Q]]), { forwarded: [P], detachedAt: 0, held: [] })
  // At EOF a partial sequence is handed back by flush.
  assert.deepEqual(feed('ctrl-p,ctrl-q', ['ab', [P]]), { forwarded: [0x61, 0x62], detachedAt: -1, held: [P] })
})

test('keys that repeat a byte are found after a false start (aab in aaab)', () => {
  assert.deepEqual(feed('a,a,b', ['aaab']), { forwarded: [0x61], detachedAt: 0, held: [] })
  assert.deepEqual(feed('a,a,b', ['a', 'a', 'a', 'b']), { forwarded: [0x61], detachedAt: 3, held: [] })
  assert.deepEqual(feed('a,b,a,c', ['ababac']), { forwarded: [0x61, 0x62], detachedAt: 0, held: [] })
  assert.deepEqual(feed('a,a,b', ['aaaxab']), { forwarded: [0x61, 0x61, 0x61, 0x78, 0x61, 0x62], detachedAt: -1, held: [] })
})

test('no keys: everything passes untouched', () => {
  const m = new DetachMatcher(Buffer.alloc(0))
  const chunk = Buffer.from([P, Q])
  assert.equal(m.scan(chunk).forward, chunk)
  assert.equal(m.flush().length, 0)
})
