// isTerminal: isatty(3) through the termios addon, without Node's tty module.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, openSync } from 'node:fs'
import { isTerminal } from './termios'

test('isTerminal: a pty is a terminal; /dev/null (a character device too), a file and a closed fd are not', () => {
  const ptmx = openSync('/dev/ptmx', 'r+')
  const devnull = openSync('/dev/null', 'r')
  const file = openSync(__filename, 'r')
  try {
    assert.equal(isTerminal(ptmx), true)
    assert.equal(isTerminal(devnull), false)
    assert.equal(isTerminal(file), false)
  } finally {
    for (const fd of [ptmx, devnull, file]) closeSync(fd)
  }
  assert.equal(isTerminal(devnull), false)
})
