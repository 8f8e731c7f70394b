// The service's attached exec sessions without a tty run with conmon's `-l passthrough` (src/oci/conmon/exec-pipes.ts):
// the same behaviour as through conmon's attach socket, checked side by side on two services, one with
// CONEX_EXEC_PASSTHROUGH=0: exact bytes on both streams, stdin, the end at the process's exit although a background
// process keeps its stdout, a process that closes its outputs and still reads stdin, and `exec attach` refused with a
// reason. The docker CLI is the client where it is installed; the raw hijack client otherwise.
import { test, before, after, describe } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { startApi, waitFor, DOCKER_BIN, type Api } from './lib'
import { createHash, randomBytes } from 'node:crypto'
import { apiExec, hijackStart, api as call, patternCommand, expectedPattern, firstDifference, fdCount } from '../reliability/lib'

// The passthrough service traces, so that the tests can see its stdin was spliced (src/util/splice.ts).
const modes = [{ name: 'passthrough', env: { CONEX_TRACE: '1' } }, { name: 'attach socket', env: { CONEX_EXEC_PASSTHROUGH: '0' } }]
const SPLICED = 'exec: stdin splice handed back'

// The conmon processes of this service's exec sessions (their argv names the store's runroot).
function execConmons (a: Api): string[] {
  const out = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
  return out.split('\n').filter((l) => l.startsWith('/usr/bin/conmon') && l.includes(a.store.runroot) && / -e /.test(l))
}

for (const mode of modes) {
  describe(`API exec without a tty (${mode.name})`, () => {
    let a: Api
    before(async () => {
      a = await startApi(`passthrough-${mode.name === 'passthrough' ? 'on' : 'off'}`, { env: mode.env })
      const r = await a.store.conex(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '1000'])
      assert.equal(r.code, 0, r.stderr)
    })
    after(async () => { await a.stop() })

    test('conmon runs as configured: -l passthrough and no attach handshake, or the attach socket', async () => {
      const gated = hijackStart(a.sock, await created(a, ['sh', '-c', 'while [ ! -e /tmp/go-argv ]; do sleep 0.1; done']), { timeoutMs: 60_000 })
      const [argv] = await waitFor('the session\'s conmon', () => { const c = execConmons(a); return c.length === 1 ? c : undefined })
      assert.equal((await a.store.conex(['exec', 'p1', 'touch', '/tmp/go-argv'])).code, 0)
      assert.equal((await gated).status, 101)
      if (mode.name === 'passthrough') {
        assert.match(argv, / -l passthrough /)
        assert.doesNotMatch(argv, /--exec-attach/)
      } else {
        assert.match(argv, / -l none /)
        assert.match(argv, / --exec-attach /)
      }
    })

    test('8 MiB on stdout and 1 MiB on stderr arrive exact, each on its stream', { timeout: 120_000 }, async () => {
      const out = patternCommand('PTOUT01', 8 << 20)
      const err = patternCommand('PTERR01', 1 << 20)
      assert.equal(out[0], 'awk')
      const r = await apiExec(a.sock, 'p1', { Cmd: ['sh', '-c', 'awk "$1"; awk "$2" >&2; exit 6', 'sh', out[1], err[1]] }, { timeoutMs: 100_000 })
      assert.equal(r.exitCode, 6)
      const wantOut = expectedPattern('PTOUT01', 8 << 20)
      const wantErr = expectedPattern('PTERR01', 1 << 20)
      assert.equal(r.stdout.length, wantOut.length, `stdout differs at ${firstDifference(r.stdout, wantOut)}`)
      assert.ok(r.stdout.equals(wantOut), `stdout differs at ${firstDifference(r.stdout, wantOut)}`)
      assert.ok(r.stderr.equals(wantErr), `stderr differs at ${firstDifference(r.stderr, wantErr)}`)
    })

    test('stdin reaches the process whole, and its half-close is the process\'s EOF', { timeout: 120_000 }, async () => {
      const input = Buffer.alloc(3 << 20)
      for (let i = 0; i < input.length; i++) input[i] = (i * 7 + (i >> 11)) & 0xff
      const r = await apiExec(a.sock, 'p1', { Cmd: ['sh', '-c', 'wc -c; echo eof >&2'], AttachStdin: true }, { stdin: input, timeoutMs: 100_000 })
      assert.equal(r.stdout.toString().trim(), String(3 << 20))
      assert.equal(r.stderr.toString(), 'eof\n')
      assert.equal(r.exitCode, 0)
    })

    test('stdin sent with the request, before the head came back, goes first; 16 MiB after it arrive byte for byte', { timeout: 120_000 }, async () => {
      const early = Buffer.from('sent-with-the-request|')
      const rest = randomBytes(16 << 20)
      const spliced = a.log().split(SPLICED).length
      const r = await apiExec(a.sock, 'p1', { Cmd: ['sha256sum'], AttachStdin: true }, { early, stdin: rest, timeoutMs: 100_000 })
      assert.equal(r.exitCode, 0)
      assert.equal(r.stdout.toString(), `${createHash('sha256').update(early).update(rest).digest('hex')}  -\n`)
      // through passthrough pipes the connection was spliced into the process's stdin
      if (mode.name === 'passthrough') assert.equal(a.log().split(SPLICED).length, spliced + 1)
    })

    test('a process that stops reading stdin: the rest is dropped, its exit code comes back, no fd is kept', { timeout: 120_000 }, async () => {
      const pid = a.proc.pid as number
      const before = fdCount(pid)
      const chunks = async function * (): AsyncGenerator<Buffer> { for (let i = 0; i < 64; i++) yield Buffer.alloc(1 << 20, 0x61) }
      const r = await apiExec(a.sock, 'p1', { Cmd: ['sh', '-c', 'head -c 5; exit 3'], AttachStdin: true }, { stdin: chunks(), timeoutMs: 100_000 })
      assert.equal(r.stdout.toString(), 'aaaaa')
      assert.equal(r.exitCode, 3)
      await waitFor('the service\'s fds to be back', () => fdCount(pid) <= before ? true : undefined)
    })

    test('a client that goes away while it sends stdin: the process reads EOF and ends; no fd is kept', { timeout: 120_000 }, async () => {
      const pid = a.proc.pid as number
      const before = fdCount(pid)
      const id = await created(a, ['sh', '-c', 'wc -c > /tmp/pt-gone; echo done >> /tmp/pt-gone'], true)
      const endless = async function * (): AsyncGenerator<Buffer> { for (;;) yield Buffer.alloc(1 << 16, 0x62) }
      let sock: import('node:net').Socket | undefined
      const gone = hijackStart(a.sock, id, { stdin: endless(), onSocket: (s) => { sock = s }, timeoutMs: 60_000 })
      await waitFor('the session to run', async () => (await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)).json().Pid > 0 ? true : undefined)
      await new Promise((resolve) => setTimeout(resolve, 300))
      sock?.destroy()
      await gone
      const s = await waitFor('the session to end', async () => { const j = (await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)).json(); return j.Running === false ? j : undefined }, 30_000)
      assert.equal(s.ExitCode, 0)
      const back = await a.store.conex(['exec', 'p1', 'cat', '/tmp/pt-gone'])
      assert.match(back.out, /^\d+\ndone\n$/)
      assert.ok(Number(back.out.split('\n')[0]) > 0)
      await waitFor('the service\'s fds to be back', () => fdCount(pid) <= before ? true : undefined)
    })

    test('the stream ends when the process exits, although a background process keeps its stdout open', { timeout: 60_000 }, async () => {
      const started = Date.now()
      const r = await apiExec(a.sock, 'p1', { Cmd: ['sh', '-c', 'sleep 40 & echo started; exit 4'] }, { timeoutMs: 30_000 })
      assert.equal(r.stdout.toString(), 'started\n')
      assert.equal(r.exitCode, 4)
      assert.ok(Date.now() - started < 30_000)
      await a.store.conex(['exec', 'p1', 'pkill', '-f', 'sleep 40']) // cleanup only
    })

    test('a process that closes stdout and stderr still gets all of stdin', { timeout: 60_000 }, async () => {
      const input = Buffer.from('line one\nline two\n')
      const r = await apiExec(a.sock, 'p1', { Cmd: ['sh', '-c', 'exec >&- 2>&-; sleep 0.3; cat > /tmp/pt-stdin'], AttachStdin: true }, { stdin: input, timeoutMs: 30_000 })
      assert.equal(r.exitCode, 0)
      const back = await a.store.conex(['exec', 'p1', 'cat', '/tmp/pt-stdin'])
      assert.equal(back.out, 'line one\nline two\n')
    })

    test('docker exec: exact output on both streams and the exit code', { skip: DOCKER_BIN === '' ? 'docker CLI not installed' : false }, async () => {
      const r = await a.docker(['exec', 'p1', 'sh', '-c', 'printf "out\\n"; printf "err\\n" >&2; printf "tail"; exit 3'])
      assert.equal(r.code, 3)
      assert.equal(r.out, 'out\ntail')
      assert.equal(r.stderr, 'err\n')
      const i = await a.docker(['exec', '-i', 'p1', 'sh', '-c', 'tr a-z A-Z'], { input: 'piped in\n' })
      assert.equal(i.code, 0)
      assert.equal(i.out, 'PIPED IN\n')
    })

    // (Through the attach socket a second client can attach: exec-extras-reattach.test.ts.)
    if (mode.name === 'passthrough') test('exec attach to a running session started attached without a tty: refused with the reason', { timeout: 60_000 }, async () => {
      const id = await created(a, ['sh', '-c', 'while [ ! -e /tmp/go-attach ]; do sleep 0.1; done; echo bye'])
      const gated = hijackStart(a.sock, id, { timeoutMs: 60_000 })
      await waitFor('the session to run', async () => (await call(a.sock, 'GET', `/v1.44/exec/${id}/json`)).json().Pid > 0 ? true : undefined)
      const r = await a.store.conex(['exec', 'attach', '--no-stdin', id])
      assert.equal(r.code, 125)
      assert.equal(r.stderr, `Error: exec session ${id} cannot be attached: it streams to the client that started it (an attached session without a tty has no attach socket)\n`)
      assert.equal((await a.store.conex(['exec', 'p1', 'touch', '/tmp/go-attach'])).code, 0)
      assert.equal((await gated).stdout.toString(), 'bye\n')
    })
  })
}

async function created (a: Api, cmd: string[], stdin = false): Promise<string> {
  const c = await call(a.sock, 'POST', '/v1.44/containers/p1/exec', { AttachStdout: true, AttachStderr: true, AttachStdin: stdin, Cmd: cmd })
  assert.equal(c.status, 201, c.body)
  return c.json().Id as string
}
