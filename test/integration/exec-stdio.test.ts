// `conex exec` stdio without a tty, byte for byte: large stdin and stdout checked by sha256, stdout and stderr kept
// apart, nothing lost from commands that exit at once, stdin delivered in whole records, binary stdin never taken
// for detach keys.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { SKIP, startFixture, sha256, assertNothingLeft, waitFor, execIds, execInspect } from './exec-common'
import { CONEX_BIN, runProgram, type Store } from '../helpers'

const MiB = 1024 * 1024

describe('exec stdio', { skip: SKIP }, () => {
  let store: Store

  before(async () => { ({ store } = await startFixture('exec-stdio')) })
  after(async () => { await store?.cleanup() })

  // Sends fresh random bytes to `exec -i c1 <cmd>` three times; `check` judges each run's output.
  async function threeRounds (size: number, cmd: string[], check: (input: Buffer, stdout: Buffer, round: number) => void): Promise<void> {
    for (let round = 0; round < 3; round++) {
      const input = randomBytes(size)
      const r = await store.conex(['exec', '-i', 'c1', ...cmd], { input, timeoutMs: 90_000 })
      assert.equal(r.stderr, '')
      assert.equal(r.code, 0)
      check(input, r.stdout, round)
    }
  }

  test('20 MiB of stdin arrive whole (sha256 inside the container), 3 times', async () => {
    await threeRounds(20 * MiB, ['sha256sum'], (input, out, round) => assert.equal(out.toString(), `${sha256(input)}  -\n`, `round ${round}`))
  })

  test('16 MiB through stdin and back out of stdout are identical, 3 times', async () => {
    await threeRounds(16 * MiB, ['cat'], (input, out, round) => {
      assert.equal(out.length, input.length, `round ${round}`)
      assert.equal(sha256(out), sha256(input), `round ${round}`)
    })
  })

  test('16 MiB made inside the container arrive whole', async () => {
    const r = await store.conex(['exec', 'c1', 'sh', '-c', 'head -c 16777216 /dev/zero | tr "\\0" x'], { timeoutMs: 90_000 })
    assert.equal(r.stderr, '')
    assert.equal(r.code, 0)
    assert.equal(r.stdout.length, 16 * MiB)
    assert.equal(sha256(r.stdout), sha256(Buffer.alloc(16 * MiB, 'x')))
  })

  test('binary stdin is data, not detach keys: ctrl-p ctrl-q pass through without a tty', async () => {
    const r = await store.conex(['exec', '-i', 'c1', 'od', '-An', '-tx1'], { input: Buffer.from([0x10, 0x11, 0x0a]) })
    assert.equal(r.stderr, '')
    assert.equal(r.code, 0)
    assert.equal(r.out, ' 10 11 0a\n')
  })

  test('stdout and stderr stay apart, each complete and in order', async () => {
    const script = 'i=1; while [ $i -le 2000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done'
    const r = await store.conex(['exec', 'c1', 'sh', '-c', script], { timeoutMs: 60_000 })
    const lines = (tag: string): string => Array.from({ length: 2000 }, (_, k) => `${tag} ${k + 1}\n`).join('')
    assert.equal(r.code, 0)
    assert.equal(r.out, lines('out'))
    assert.equal(r.stderr, lines('err'))
  })

  test('stderr alone, and stdout alone, with exact bytes (no newline added)', async () => {
    const e = await store.conex(['exec', 'c1', 'sh', '-c', 'printf "only-err" >&2'])
    assert.equal(e.out, '')
    assert.equal(e.stderr, 'only-err')
    assert.equal(e.code, 0)
    const o = await store.conex(['exec', 'c1', 'printf', 'a\\0b'])
    assert.deepEqual(o.stdout, Buffer.from('a\0b'))
    assert.equal(o.stderr, '')
  })

  test('commands that exit at once lose no output: 30 runs of 100000 bytes, 6 at a time', async () => {
    const want = sha256(Buffer.alloc(100000, 'a'))
    for (let round = 0; round < 5; round++) {
      const rs = await Promise.all(Array.from({ length: 6 }, () =>
        store.conex(['exec', 'c1', 'sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" a'], { timeoutMs: 60_000 })))
      for (const r of rs) {
        assert.equal(r.code, 0, r.stderr)
        assert.equal(r.stderr, '')
        assert.equal(r.stdout.length, 100000)
        assert.equal(sha256(r.stdout), want)
      }
    }
  })

  // The caller here is a shell pipeline, whose writes are whole blocks (head writes 4096 or 8192 bytes at a time).
  // Record boundaries are kept only as far as the caller's writes keep them: one write of 1 MiB into a pipe reaches
  // any reader in pieces the kernel chooses, so this input does not come from a single Buffer write.
  test('stdin reaches the process in whole records: dd bs=512 reads 2048 full blocks of 1 MiB', async () => {
    const r = await runProgram('sh', ['-c', 'head -c 1048576 /dev/zero | "$0" "$@"', CONEX_BIN, ...store.flags, 'exec', '-i', 'c1', 'dd', 'bs=512', 'of=/dev/null'], { timeoutMs: 60_000 })
    assert.equal(r.code, 0)
    assert.equal(r.out, '')
    assert.equal(r.stderr, '2048+0 records in\n2048+0 records out\n')
  })

  test('stdin written in 512-byte records with pauses arrives as whole records', async () => {
    const child = spawn(CONEX_BIN, [...store.flags, 'exec', '-i', 'c1', 'dd', 'bs=512', 'of=/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.stdout.resume()
    const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    for (let i = 0; i < 64; i++) {
      child.stdin.write(Buffer.alloc(512, i))
      if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.stdin.end()
    const code = await done
    clearTimeout(killer)
    assert.equal(code, 0)
    assert.equal(err, '64+0 records in\n64+0 records out\n')
  })

  test('empty stdin with -i is an immediate EOF', async () => {
    const r = await store.conex(['exec', '-i', 'c1', 'wc', '-c'], { input: '' })
    assert.equal(r.code, 0)
    assert.equal(r.out.trim(), '0')
  })

  test('without -i the process gets no stdin, even when the caller has some', async () => {
    const r = await store.conex(['exec', 'c1', 'wc', '-c'], { input: 'not for the process' })
    assert.equal(r.code, 0)
    assert.equal(r.out.trim(), '0')
  })

  test('a process that exits without reading its stdin does not hang the CLI', async () => {
    const r = await store.conex(['exec', '-i', 'c1', 'sh', '-c', 'echo bye'], { input: randomBytes(4 * MiB), timeoutMs: 60_000 })
    assert.equal(r.code, 0)
    assert.equal(r.out, 'bye\n')
  })

  test('through the attach socket, a reader that goes away ends the CLI quietly with 141 (SIGPIPE); the session runs to its end', async () => {
    // The session waits for a file we create once it is listed, then writes far more than `head` reads. Its stdout
    // is a shell's pipe, which the CLI would hand to the process (exec-handover.test.ts: the process's own SIGPIPE);
    // with exec_passthrough off it keeps the attach socket, as it does for sockets and terminals.
    const pipeline = runProgram('bash', ['-c', 'set -o pipefail; "$0" "$@" | head -c 5 >/dev/null; echo "status=${PIPESTATUS[0]}"', CONEX_BIN, ...store.flags,
      'exec', 'c1', 'sh', '-c', 'while [ ! -e /tmp/go-epipe ]; do sleep 0.1; done; head -c 10000000 /dev/zero'], { timeoutMs: 60_000, env: { ...process.env, CONEX_EXEC_PASSTHROUGH: '0' } })
    const [id] = await waitFor('the session to be listed', async () => { const ids = await execIds(store, 'c1'); return ids.length === 1 ? ids : undefined })
    assert.equal((await store.conex(['exec', 'c1', 'touch', '/tmp/go-epipe'])).code, 0)
    const r = await pipeline
    assert.equal(r.stderr, '')
    assert.equal(r.out, 'status=141\n')
    const s = await waitFor('the session to end', async () => { const x = await execInspect(store, id); return x.Running ? undefined : x })
    assert.equal(s.ExitCode, 0)
  })

  test('nothing left behind', async () => { await assertNothingLeft(store) })
})
