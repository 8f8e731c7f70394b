// `conex exec --record FILE` (issue #7): an asciicast v2 file whose header has the tty's size and whose output
// events add up to exactly what the session printed, with and without a tty; `asciinema cat` accepts it.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { SKIP, startFixture } from './exec-common'
import { CONEX_BIN, runInPty, type Store } from '../helpers'

const ASCIINEMA = (() => { try { return execFileSync('sh', ['-c', 'command -v asciinema'], { encoding: 'utf8' }).trim() } catch { return '' } })()

interface Cast { header: Record<string, unknown>, events: Array<[number, string, string]> }

// Parses and checks the structure asciinema expects: a v2 header object, then [time, "o", text] lines with times
// that never go back.
function readCast (path: string): Cast {
  const lines = readFileSync(path, 'utf8').split('\n')
  assert.equal(lines.pop(), '', 'the file ends with a newline')
  const header = JSON.parse(lines[0]) as Record<string, unknown>
  assert.equal(header.version, 2)
  assert.ok(Number.isInteger(header.width) && Number.isInteger(header.height))
  assert.ok(typeof header.timestamp === 'number' && Math.abs((header.timestamp) - Date.now() / 1000) < 600)
  const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string])
  let last = 0
  for (const e of events) {
    assert.equal(e.length, 3)
    assert.equal(typeof e[0], 'number')
    assert.ok(e[0] >= last, 'event times never go back')
    last = e[0]
    assert.equal(e[1], 'o')
    assert.equal(typeof e[2], 'string')
  }
  return { header, events }
}

const played = (c: Cast): string => c.events.map((e) => e[2]).join('')

describe('exec --record', { skip: SKIP }, () => {
  let store: Store

  before(async () => { ({ store } = await startFixture('exec-extras-record')) })
  after(async () => { if (store !== undefined) await store.cleanup() })

  test('tty: the header has the terminal\'s size; the events are exactly what the terminal showed', async () => {
    const file = join(store.runroot, 'tty.cast')
    const r = await runInPty([CONEX_BIN, ...store.flags, 'exec', '-it', '--record', file, 'c1', 'sh', '-c', 'printf "rec-%s \\342\\234\\223\\n" $((6*7)); stty size'], { rows: 33, cols: 101, timeout: 20 })
    assert.equal(r.code, 0, r.out)
    const cast = readCast(file)
    assert.equal(cast.header.width, 101)
    assert.equal(cast.header.height, 33)
    assert.equal((cast.header.env as Record<string, string>).TERM, 'xterm')
    // ptyrun reports the terminal's bytes as latin1; the recording holds UTF-8 text.
    assert.equal(played(cast), Buffer.from(r.out, 'latin1').toString('utf8'))
    assert.equal(played(cast), 'rec-42 ✓\r\n33 101\r\n')
    assert.equal(statSync(file).mode & 0o777, 0o600)
  })

  test('no tty: stdout and stderr are both recorded, byte for byte, 80x24 by default', async () => {
    const file = join(store.runroot, 'plain.cast')
    const r = await store.conex(['exec', '--record', file, 'c1', 'sh', '-c', 'echo out-1; echo err-1 >&2; sleep 0.2; printf "out-2"'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.out, 'out-1\nout-2')
    assert.equal(r.stderr, 'err-1\n')
    const cast = readCast(file)
    assert.deepEqual([cast.header.width, cast.header.height], [80, 24])
    assert.equal(played(cast), 'out-1\nerr-1\nout-2')
  })

  test('asciinema accepts the recording: asciinema cat prints the same text', { skip: ASCIINEMA === '' ? 'asciinema is not installed' : false }, async () => {
    const file = join(store.runroot, 'cat.cast')
    const r = await store.conex(['exec', '--record', file, 'c1', 'sh', '-c', 'for i in 1 2 3; do echo line-$i; done'])
    assert.equal(r.code, 0, r.stderr)
    // asciinema cat reads keys from /dev/tty, so it runs under a pty (which it puts in raw mode: bytes pass as they are).
    const cat = await runInPty(['env', `HOME=${store.root}`, ASCIINEMA, 'cat', file], { timeout: 20 })
    assert.equal(cat.code, 0, cat.out)
    assert.equal(cat.out, 'line-1\nline-2\nline-3\n')
    assert.equal(cat.out, played(readCast(file)))
  })

  test('--record with --detach is refused (125); an unwritable path too', async () => {
    const d = await store.conex(['exec', '-d', '--record', join(store.runroot, 'x.cast'), 'c1', 'true'])
    assert.equal(d.code, 125)
    assert.match(d.stderr, /--record needs an attached session/)
    const bad = await store.conex(['exec', '--record', '/nonexistent/dir/x.cast', 'c1', 'true'])
    assert.equal(bad.code, 125)
    assert.match(bad.stderr, /cannot open recording file/)
  })
})
