// pumpPipes against a real process on real pipes (spawnLight's, as conmon gets them): exact bytes, the end at exit even
// when a background process keeps the pipes, input and its EOF, backpressure, and a client that goes away.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough, Writable } from 'node:stream'
import { once } from 'node:events'
import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import type { Socket } from 'node:net'
import { spawnLight } from '../../util/procspawn'
import { pumpPipes } from './exec-pipes'
import type { ProcessPipes } from './spawn'

interface Proc { pipes: ProcessPipes, exited: Promise<number> }

async function sh (script: string, stdin = false): Promise<Proc> {
  const c = await spawnLight({ file: '/bin/sh', args: ['-c', script], env: { PATH: '/usr/bin:/bin' }, cwd: '/', stdio: [stdin ? 'write' : 'ignore', 'read', 'read'] })
  assert.ok(c !== undefined, 'the procspawn addon must load here')
  return { pipes: { stdin: c.pipes[0] as Socket | undefined, stdout: c.pipes[1], stderr: c.pipes[2], stdoutFd: c.fds[1], stderrFd: c.fds[2] }, exited: c.exited }
}

function sink (): { w: PassThrough, text: () => string, bytes: () => number } {
  const w = new PassThrough()
  const parts: Buffer[] = []
  w.on('data', (b: Buffer) => parts.push(b))
  return { w, text: () => Buffer.concat(parts).toString(), bytes: () => parts.reduce((n, b) => n + b.length, 0) }
}

test('forwards stdout and stderr exactly and ends once the process has exited', async () => {
  const p = await sh('printf "out1\\n"; printf "err1\\n" >&2; printf "out2"; exit 3')
  const out = sink(); const err = sink()
  const pump = pumpPipes(p.pipes, { stdout: out.w, stderr: err.w })
  assert.equal(await p.exited, 3)
  pump.exited()
  assert.equal(await pump.done, 'eof')
  assert.equal(out.text(), 'out1\nout2')
  assert.equal(err.text(), 'err1\n')
})

test('does not end at EOF alone: a process that closed its outputs still gets its input', async () => {
  const p = await sh('exec >&- 2>&-; read line; test "$line" = hello', true)
  const input = new PassThrough()
  const pump = pumpPipes(p.pipes, { stdin: input, stdout: sink().w, stderr: sink().w })
  let settled = false
  void pump.done.then(() => { settled = true })
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.equal(settled, false, 'the pump ended before the process exited')
  input.end('hello\n')
  assert.equal(await p.exited, 0, 'the process did not read its input')
  pump.exited()
  assert.equal(await pump.done, 'eof')
})

test('ends at exit with every byte although a background process keeps the pipes open', async () => {
  // 200 KiB is more than a pipe holds: part of it is still in the pipe when the exit is known.
  const p = await sh('sleep 30 & echo $! >&2; head -c 204800 /dev/zero | tr "\\0" x; exit 0')
  const out = sink(); const err = sink()
  const pump = pumpPipes(p.pipes, { stdout: out.w, stderr: err.w })
  await p.exited
  pump.exited()
  assert.equal(await pump.done, 'eof')
  await pump.closed
  assert.equal(out.bytes(), 204800)
  assert.match(out.text(), /^x+$/)
  const bg = Number(err.text().trim())
  assert.ok(bg > 0, `background pid ${err.text()}`)
  process.kill(bg, 'SIGKILL')
})

test('input goes to the process and its end is the process\'s EOF', async () => {
  const p = await sh('wc -c; cat >&2', true)
  const input = new PassThrough()
  const out = sink(); const err = sink()
  const pump = pumpPipes(p.pipes, { stdin: input, stdout: out.w, stderr: err.w })
  const chunk = Buffer.alloc(1 << 20, 7)
  for (let i = 0; i < 3; i++) input.write(chunk)
  input.end()
  assert.equal(await p.exited, 0)
  pump.exited()
  assert.equal(await pump.done, 'eof')
  assert.equal(out.text().trim(), String(3 << 20))
  assert.equal(err.text(), '')
})

test('a slow sink gets every byte: the pipe holds the process back meanwhile', async () => {
  const p = await sh('head -c 4194304 /dev/urandom | od -An -v -tx1 | head -c 4000000')
  let got = 0
  let calls = 0
  const slow = new Writable({
    highWaterMark: 16 * 1024,
    write (chunk: Buffer, _enc, cb) { got += chunk.length; calls++; setTimeout(cb, calls % 16 === 0 ? 5 : 0) },
  })
  const pump = pumpPipes(p.pipes, { stdout: slow, stderr: sink().w })
  assert.equal(await p.exited, 0)
  pump.exited()
  assert.equal(await pump.done, 'eof')
  slow.end()
  await once(slow, 'finish')
  assert.equal(got, 4000000)
})

test('a client that goes away: done says aborted, its stdin is closed, and the output is still read until it ends', async () => {
  const p = await sh('read go; head -c 1048576 /dev/zero; cat; exit 5', true)
  const input = new PassThrough()
  const ac = new AbortController()
  // A sink that never finishes a write: the pump pauses on it, and only the abort lets the process go on.
  let got = 0
  const stuck = new Writable({ highWaterMark: 16 * 1024, write (chunk: Buffer, _enc, _cb) { got += chunk.length } })
  const pump = pumpPipes(p.pipes, { stdin: input, stdout: stuck, stderr: sink().w }, ac.signal)
  input.write('go\n')
  while (got === 0) await new Promise((resolve) => setTimeout(resolve, 10))
  ac.abort()
  assert.equal(await pump.done, 'aborted')
  // With nobody reading, 1 MiB would block the process on its pipe forever; with stdin open, `cat` would never end.
  assert.equal(await p.exited, 5)
  pump.exited()
  await pump.closed
  assert.ok(got < 1048576, `${got} bytes reached the stuck sink`)
})

test('a process that wrote nothing and exited before the pump began: the pump ends at once, whoever has its fd numbers now', async () => {
  // A net.Socket reads from its creation, so such pipes have seen EOF and closed before the pump starts; their fd
  // numbers are free for the next pipe. Seen at 128 concurrent API execs: an exec of `true` waited forever for the
  // bytes another session's pipe held under its old stdout fd number.
  const p = await sh('exit 0')
  const fds = [p.pipes.stdoutFd, p.pipes.stderrFd]
  await p.exited
  while (p.pipes.stdout?.destroyed !== true || p.pipes.stderr?.destroyed !== true) await new Promise((resolve) => setTimeout(resolve, 10))
  const fifo = join(mkdtempSync(join(tmpdir(), 'conex-pipes-')), 'f')
  execFileSync('mkfifo', [fifo])
  const others = [openSync(fifo, 'r+'), openSync(fifo, 'r+')]
  try {
    for (const fd of others) writeSync(fd, 'bytes of another pipe')
    assert.ok(others.some((fd) => fds.includes(fd)), `the freed numbers ${fds.join(',')} were not reused (${others.join(',')})`)
    const pump = pumpPipes(p.pipes, { stdout: sink().w, stderr: sink().w })
    pump.exited()
    const r = await Promise.race([pump.done, new Promise((resolve) => setTimeout(() => resolve('hung'), 2000))])
    assert.equal(r, 'eof')
  } finally {
    for (const fd of others) closeSync(fd)
  }
})
