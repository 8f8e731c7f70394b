// `conex exec` without a tty whose stdio are pipes and files hands them to the process itself (src/cli/hand-over.ts):
// the process writes into the caller's pipe and reads the caller's file, nothing copies a byte, nothing reads ahead.
// Each case runs as a shell runs it: bash, with `cx` a wrapper that execs the real CLI on this store (so the fds bash
// sets up are conex's own). A terminal or a socket beside them is copied through a pipe of conex's (the cases under
// a real pty, and with Node's socketpairs); with nothing to hand over, conmon's attach socket (the other exec suites,
// whose CLIs have Node's socketpairs for stdio, run that path).
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SKIP, startFixture, sha256, assertNothingLeft, killAtEachStep, assertAllEnded, killWhileRunning } from './exec-common'
import { CONEX_BIN, runProgram, runInPty, type RunResult, type Store } from '../helpers'

const MiB = 1024 * 1024

describe('exec hands pipes and files over', { skip: SKIP }, () => {
  let store: Store
  let c1: string
  let dir: string
  let env: NodeJS.ProcessEnv

  before(async () => {
    ({ store, c1 } = await startFixture('exec-handover'))
    dir = mkdtempSync(join(tmpdir(), 'conex-handover-'))
    const bin = join(dir, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'cx'), `#!/bin/sh\nexec "$CONEX_BIN" --root "$CX_ROOT" --runroot "$CX_RUNROOT" "$@"\n`)
    chmodSync(join(bin, 'cx'), 0o755)
    env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, CONEX_BIN, CX_ROOT: store.root, CX_RUNROOT: store.runroot, T: dir }
  })
  after(async () => {
    await store?.cleanup()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  // Runs a bash script (never with values pasted into it: they come from the environment) with its stdout a pipe
  // (through cat) and its stderr a file, as a shell's would be: ours are sockets, which the CLI would not hand over.
  // That file is the result's stderr.
  const bash = async (script: string, o: { env?: NodeJS.ProcessEnv, timeoutMs?: number } = {}): Promise<RunResult> => {
    const r = await runProgram('bash', ['-c', `exec 2> "$T/stderr" > >(cat); ${script}`], { env: { ...env, ...o.env }, timeoutMs: o.timeoutMs ?? 60_000 })
    return { ...r, stderr: readFileSync(join(dir, 'stderr'), 'utf8') }
  }

  test('the pipe the process writes to is the caller\'s own, and so is the file; stdin too with -i', async () => {
    const r = await bash('cx exec c1 readlink /proc/self/fd/1 | { readlink /proc/self/fd/0; cat; }')
    assert.equal(r.stderr, '')
    assert.equal(r.code, 0)
    const [outer, inner] = r.out.split('\n')
    assert.match(outer, /^pipe:\[\d+\]$/)
    assert.equal(inner, outer)
    const f = await bash('cx exec c1 stat -L -c %i /proc/self/fd/1 > "$T/inode"; echo $?')
    assert.equal(f.out, '0\n')
    assert.equal(readFileSync(join(dir, 'inode'), 'utf8'), `${statSync(join(dir, 'inode')).ino}\n`)
    const i = await bash('{ readlink /proc/$BASHPID/fd/1 > "$T/left"; } | cx exec -i c1 readlink /proc/self/fd/0')
    assert.equal(i.code, 0)
    assert.equal(i.out, readFileSync(join(dir, 'left'), 'utf8'))
    assert.match(i.out, /^pipe:\[\d+\]\n$/)
  })

  test('the process reads the caller\'s stdin itself: what it leaves is still there for the next reader', async () => {
    writeFileSync(join(dir, 'in'), 'hello world')
    const fromFile = await bash('{ cx exec -i c1 dd bs=1 count=5 2>/dev/null; echo "|"; cat; } < "$T/in"')
    assert.equal(fromFile.stderr, '')
    assert.equal(fromFile.out, 'hello|\n world')
    const fromPipe = await bash('printf "hello world" | { cx exec -i c1 dd bs=1 count=5 2>/dev/null; echo "|"; cat; }')
    assert.equal(fromPipe.out, 'hello|\n world')
  })

  test('8 MiB on stdout and 1 MiB on stderr land in two files byte for byte; the exit code passes through', async () => {
    const mk = await store.conex(['exec', 'c1', 'sh', '-c', 'head -c 8388608 /dev/urandom > /tmp/b8; head -c 1048576 /dev/urandom > /tmp/b1; sha256sum /tmp/b8 /tmp/b1'])
    assert.equal(mk.code, 0, mk.stderr)
    const [s8, s1] = mk.out.trim().split('\n').map((l) => l.split(' ')[0])
    const r = await bash('cx exec c1 sh -c "cat /tmp/b8; cat /tmp/b1 >&2; exit 7" > "$T/o" 2> "$T/e"; echo $?')
    assert.equal(r.out, '7\n')
    const o = readFileSync(join(dir, 'o'))
    const e = readFileSync(join(dir, 'e'))
    assert.equal(o.length, 8 * MiB)
    assert.equal(e.length, MiB)
    assert.equal(sha256(o), s8)
    assert.equal(sha256(e), s1)
  })

  test('a pipe handed over blocks as a shell\'s does: a slow reader makes the writer wait, not fail with EAGAIN', async () => {
    // O_NONBLOCK belongs to the pipe, not to one process: had conex's own stdout stream (Node's, made before the
    // hand-over) set it, dd would get EAGAIN once the pipe is full ("Resource temporarily unavailable").
    const r = await bash('cx exec c1 dd if=/dev/zero bs=1M count=32 2> "$T/dd" | { sleep 1; wc -c; }; echo "status=${PIPESTATUS[0]}"')
    assert.equal(r.out.replace(/ +/g, ''), '33554432\nstatus=0\n')
    assert.equal(readFileSync(join(dir, 'dd'), 'utf8').split('\n').slice(0, 2).join('\n'), '32+0 records in\n32+0 records out')
  })

  test('a reader that goes away is the process\'s own SIGPIPE: `yes | head` ends, and no `yes` is left running', async () => {
    const r = await bash('cx exec c1 yes | head -c 4; echo "status=${PIPESTATUS[0]}"', { timeoutMs: 30_000 })
    assert.equal(r.stderr, '')
    assert.equal(r.out, 'y\ny\nstatus=141\n')
    const ps = await store.conex(['exec', 'c1', 'ps', '-o', 'comm'])
    assert.equal(ps.code, 0)
    assert.doesNotMatch(ps.out, /^yes$/m)
  })

  test('a CLI killed while its process runs: the process keeps the caller\'s file and runs to its end, which is recorded', async () => {
    const child = spawn('bash', ['-c', 'exec cx exec c1 sh -c "while [ ! -e /tmp/go-h1 ]; do sleep 0.1; done; echo done; exit 9" > "$T/killed"'], { env, stdio: 'ignore' })
    const s = await killWhileRunning(store, 'c1', child, '/tmp/go-h1')
    assert.equal(s.ExitCode, 9)
    assert.equal(readFileSync(join(dir, 'killed'), 'utf8'), 'done\n')
  })

  test('CLIs killed at each step of a handed-over start leave no session running, no bundle and no conmon', async () => {
    // stderr is a pipe to `cat` (process substitution), so the CLI hands it over and its CONEX_TRACE lines still reach us.
    const steps = ['exec: spawn conmon', 'exec: conmon released', 'exec: pid received', 'exec: exit recorded']
    await killAtEachStep(steps, (step) => {
      const script = step === 'exec: exit recorded' ? 'exit 3' : 'while [ ! -e /tmp/go-h2 ]; do sleep 0.1; done; exit 3'
      return spawn('bash', ['-c', 'exec cx exec c1 sh -c "$1" 2> >(cat >&2) > /dev/null', 'bash', script], { env: { ...env, CONEX_TRACE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] })
    })
    assert.equal((await store.conex(['exec', 'c1', 'touch', '/tmp/go-h2'])).code, 0)
    await assertAllEnded(store, 'c1', c1)
  })

  test('--timeout kills a process that has the caller\'s fds: 124', async () => {
    const r = await bash('cx exec --timeout 1 c1 sh -c "echo started; sleep 30" > "$T/t"; echo $?')
    assert.equal(r.out, '124\n')
    assert.equal(readFileSync(join(dir, 't'), 'utf8'), 'started\n')
  })

  test('a command that cannot run: 127 and conex\'s one-line error last (the runtime\'s own line before it)', async () => {
    const r = await bash('cx exec c1 /no/such 2> "$T/err" > /dev/null; echo $?')
    assert.equal(r.out, '127\n')
    const lines = readFileSync(join(dir, 'err'), 'utf8').trimEnd().split('\n')
    assert.match(lines[lines.length - 1], /^Error: starting exec session in c1: runc: .*no such file or directory/)
    assert.ok(lines.length <= 2, lines.join('\n'))
  })

  test('a CLI that hands everything over loads none of Node\'s stream modules (net, stream, tty: 4-10 ms of its start)', async () => {
    // A preload records the built-in modules loaded during the run; the CLI's own output path (stderr) is not used.
    writeFileSync(join(dir, 'modules.js'), `process.on('exit', () => require('fs').writeFileSync(process.env.T + '/modules', process.moduleLoadList.join('\\n')))\n`)
    const r = await bash('cx exec c1 sh -c "echo out; echo err >&2; exit 3"', { env: { NODE_OPTIONS: `--require ${join(dir, 'modules.js')}` } })
    assert.equal(r.out, 'out\n')
    assert.equal(r.stderr, 'err\n')
    assert.equal(r.code, 3)
    const loaded = readFileSync(join(dir, 'modules'), 'utf8').split('\n')
    assert.ok(loaded.includes('NativeModule fs'), 'the preload saw the run')
    for (const m of ['net', 'stream', 'tty', 'child_process']) assert.ok(!loaded.includes(`NativeModule ${m}`), `${m} was loaded`)
    // The same at a terminal-less error: the one-line error still reaches stderr (made on first use).
    const e = await bash('cx exec nosuch true')
    assert.equal(e.code, 125)
    assert.equal(e.stderr, 'Error: no container with name or ID "nosuch" found: no such container\n')
  })

  test('sockets, --record and exec_passthrough=false keep conmon\'s attach socket: the process gets a pipe of conmon\'s', async () => {
    // Node's child_process gives the CLI socketpairs.
    const sock = await store.conex(['exec', 'c1', 'readlink', '/proc/self/fd/1'])
    assert.equal(sock.code, 0)
    assert.match(sock.out, /^pipe:\[\d+\]\n$/)
    const off = await bash('cx exec c1 readlink /proc/self/fd/1 | { readlink /proc/self/fd/0; cat; }', { env: { CONEX_EXEC_PASSTHROUGH: '0' } })
    const [outer, inner] = off.out.split('\n')
    assert.match(inner, /^pipe:\[\d+\]$/)
    assert.notEqual(inner, outer)
    const rec = await bash('cx exec --record "$T/cast" c1 readlink /proc/self/fd/1 | { readlink /proc/self/fd/0; cat; }')
    const [o2, i2] = rec.out.split('\n')
    assert.notEqual(i2, o2)
    assert.ok(existsSync(join(dir, 'cast')))
    assert.ok(readFileSync(join(dir, 'cast'), 'utf8').includes(JSON.stringify(i2 + '\n').slice(1, -1)))
  })

  // Runs a bash script under a real terminal (stdin, stdout and stderr the pty); resolves with what it showed.
  const ptyArgv = (script: string): string[] => ['env', ...['PATH', 'CONEX_BIN', 'CX_ROOT', 'CX_RUNROOT', 'T'].map((k) => `${k}=${env[k] ?? ''}`), 'bash', '-c', script]
  const atTerminal = async (script: string): Promise<string> => {
    const r = await runInPty(ptyArgv(script), { timeout: 60 })
    assert.equal(r.code, 0, r.out)
    return r.out.replace(/\r\n/g, '\n')
  }

  test('at a terminal, `cx exec … | reader`: the pipe is handed over and stderr copied through a pipe, not the terminal', async () => {
    const shown = await atTerminal('cx exec c1 sh -c "readlink /proc/self/fd/1; readlink /proc/self/fd/2 >&2; [ -t 2 ] || echo no-tty >&2" | { readlink /proc/self/fd/0; cat; } > "$T/p"; echo "status=${PIPESTATUS[0]}"')
    const [outer, inner] = readFileSync(join(dir, 'p'), 'utf8').split('\n')
    assert.match(outer, /^pipe:\[\d+\]$/)
    assert.equal(inner, outer)
    const m = /^(pipe:\[\d+\])\nno-tty\nstatus=0\n$/.exec(shown)
    assert.ok(m !== null, JSON.stringify(shown))
    assert.notEqual(m[1], outer)
  })

  test('at a terminal, `cx exec c1 yes | head` ends with the process\'s SIGPIPE and leaves no `yes`', async () => {
    const shown = await atTerminal('cx exec c1 yes | head -c 4 > "$T/y"; echo "status=${PIPESTATUS[0]}"')
    assert.equal(shown, 'status=141\n')
    assert.equal(readFileSync(join(dir, 'y'), 'utf8'), 'y\ny\n')
    const ps = await store.conex(['exec', 'c1', 'ps', '-o', 'comm'])
    assert.doesNotMatch(ps.out, /^yes$/m)
  })

  test('at a terminal, -i from a file: the process reads the file itself (no read-ahead) and its output is copied', async () => {
    writeFileSync(join(dir, 'in'), 'hello world')
    const shown = await atTerminal('{ cx exec -i c1 sh -c "dd bs=1 count=5 2>/dev/null; readlink /proc/self/fd/0"; echo "|"; cat; } < "$T/in"')
    assert.equal(shown, `hello${join(dir, 'in')}\n|\n world`)
  })

  test('at a terminal, -i with stdout to a file: what is typed is copied to the process, ctrl-d is its EOF', async () => {
    const script = 'cx exec -i c1 sh -c "readlink /proc/self/fd/1; cat" > "$T/typed"; echo "status=$?"'
    const r = await runInPty(ptyArgv(script), { timeout: 60, steps: [{ send: 'typed line\n' }, { send: '\x04' }, { wait: 'status=' }] })
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, /status=0\r\n$/)
    const [fd1, typed] = readFileSync(join(dir, 'typed'), 'utf8').split('\n')
    assert.equal(fd1, join(dir, 'typed'))
    assert.equal(typed, 'typed line')
  })

  test('a socket beside a file: 8 MiB copied from the socket byte for byte, the file handed over', async () => {
    const mk = await store.conex(['exec', 'c1', 'sh', '-c', 'head -c 8388608 /dev/urandom > /tmp/c8; sha256sum /tmp/c8'])
    const want = mk.out.split(' ')[0]
    const errFd = openSync(join(dir, 'sock-err'), 'w')
    try {
      const r = await runProgram('cx', ['exec', 'c1', 'sh', '-c', 'cat /tmp/c8; stat -L -c %i /proc/self/fd/2 >&2; exit 5'], { env, stdio: ['ignore', 'pipe', errFd] })
      assert.equal(r.code, 5)
      assert.equal(r.stdout.length, 8 * MiB)
      assert.equal(sha256(r.stdout), want)
    } finally { closeSync(errFd) }
    assert.equal(readFileSync(join(dir, 'sock-err'), 'utf8'), `${statSync(join(dir, 'sock-err')).ino}\n`)
  })

  test('a CLI killed while it copies stderr: the process keeps its file and ends at its next write to stderr (141)', async () => {
    const script = 'echo one; echo started >&2; while [ ! -e /tmp/go-h3 ]; do sleep 0.1; done; echo two; echo gone >&2; echo three'
    const child = spawn('bash', ['-c', 'exec cx exec c1 sh -c "$1" > "$T/killed-out"', 'bash', script], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    const s = await killWhileRunning(store, 'c1', child, '/tmp/go-h3')
    assert.equal(s.ExitCode, 141)
    assert.equal(readFileSync(join(dir, 'killed-out'), 'utf8'), 'one\ntwo\n')
  })

  test('nothing left behind', async () => { await assertNothingLeft(store) })
})
