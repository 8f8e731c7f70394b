// The posix_spawn path for conmon (native/procspawn.c via spawnLight): pipes both ways, fds passed as they are, exit
// status and signals, a session of its own, default signal dispositions, exact env and cwd, and a clear error; bare pipe
// ends read on the event loop (readFd).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openSync, closeSync, mkdtempSync, writeFileSync, rmSync, realpathSync, writeSync, fstatSync } from 'node:fs'
import { join } from 'node:path'
import type { Socket } from 'node:net'
import { readFd, spawnLight } from './procspawn'

const read = (s: Socket): Promise<string> => new Promise((resolve) => {
  let out = ''
  s.setEncoding('utf8')
  s.on('data', (d: string) => { out += d })
  s.on('end', () => resolve(out))
})

async function sh (script: string, stdio: Parameters<typeof spawnLight>[0]['stdio'], o: { env?: Record<string, string>, cwd?: string } = {}): Promise<NonNullable<Awaited<ReturnType<typeof spawnLight>>>> {
  const c = await spawnLight({ file: '/bin/sh', args: ['-c', script], env: o.env ?? { PATH: '/usr/bin:/bin' }, cwd: o.cwd ?? '/', stdio })
  assert.ok(c !== undefined, 'the addon and pidfd_open are available on this host')
  return c
}

test('pipes in both directions at the child fds asked for; the exit code comes back', async () => {
  const c = await sh('read x <&4; echo "got $x" >&3; echo err >&2; exit 7', ['ignore', 'ignore', 'read', 'read', 'write'])
  const w = c.pipes[4] as Socket
  w.end('hello\n')
  const [out, err, code] = await Promise.all([read(c.pipes[3] as Socket), read(c.pipes[2] as Socket), c.exited])
  assert.equal(out, 'got hello\n')
  assert.equal(err, 'err\n')
  assert.equal(code, 7)
  assert.equal(c.pipes[0], undefined)
})

test('a fd of ours passed as is; "ignore" is /dev/null', async () => {
  const dir = mkdtempSync('/tmp/conex-procspawn-')
  try {
    writeFileSync(join(dir, 'f'), 'passed\n')
    const fd = openSync(join(dir, 'f'), 'r')
    try {
      const stdio: Parameters<typeof spawnLight>[0]['stdio'] = ['ignore', 'read']
      while (stdio.length < fd) stdio.push('ignore')
      stdio.push(fd)
      const c = await sh(`cat /proc/self/fd/${fd}; readlink /proc/self/fd/0`, stdio)
      assert.equal(await read(c.pipes[1] as Socket), 'passed\n/dev/null\n')
      assert.equal(await c.exited, 0)
    } finally { closeSync(fd) }
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('fds of ours that are also target slots are mapped without overwriting each other (a swap)', async () => {
  const dir = mkdtempSync('/tmp/conex-procspawn-')
  try {
    writeFileSync(join(dir, 'a'), 'A\n')
    writeFileSync(join(dir, 'b'), 'B\n')
    const a = openSync(join(dir, 'a'), 'r')
    const b = openSync(join(dir, 'b'), 'r')
    try {
      // The child gets b at a's number and a at b's: each source is a slot another mapping writes.
      const stdio: Parameters<typeof spawnLight>[0]['stdio'] = ['ignore', 'read']
      while (stdio.length <= Math.max(a, b)) stdio.push('ignore')
      stdio[a] = b
      stdio[b] = a
      const c = await sh(`cat /proc/self/fd/${a} /proc/self/fd/${b}`, stdio)
      assert.equal(await read(c.pipes[1] as Socket), 'B\nA\n')
      assert.equal(await c.exited, 0)
    } finally { closeSync(a); closeSync(b) }
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('a session of its own, exact env and cwd', async () => {
  const dir = realpathSync(mkdtempSync('/tmp/conex-procspawn-'))
  try {
    const c = await sh('echo "$$ $(cut -d" " -f6 /proc/$$/stat)"; env | sort; pwd', ['ignore', 'read', 'ignore'], { env: { PATH: '/usr/bin:/bin', A: 'b c' }, cwd: dir })
    const lines = (await read(c.pipes[1] as Socket)).trim().split('\n')
    const [pid, sid] = lines[0].split(' ')
    assert.equal(sid, pid, 'the child leads its own session')
    assert.ok(lines.includes('A=b c') && lines.includes('PATH=/usr/bin:/bin'), lines.join('|'))
    assert.equal(lines.at(-1), dir)
    assert.equal(await c.exited, 0)
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('no signal blocked or ignored in the child (Node ignores SIGPIPE; glibc\'s 32 and 33 too)', async () => {
  // grep reads its own status (a shell would show its own masks, which it changes around each fork). posix_spawn
  // would leave glibc's internal 32 and 33 ignored, and ignored survives exec, down to the container's processes.
  const c = await spawnLight({ file: '/bin/grep', args: ['-E', '^Sig(Blk|Ign)', '/proc/self/status'], env: {}, cwd: '/', stdio: ['ignore', 'read', 'ignore'] })
  assert.ok(c !== undefined)
  assert.equal(await read(c.pipes[1] as Socket), 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n')
  assert.equal(await c.exited, 0)
})

test('killed by a signal: 128 + the signal; a missing program: ENOENT thrown; a relative path: not handled here', async () => {
  const c = await sh('kill -9 $$', ['ignore', 'ignore', 'ignore'])
  assert.equal(await c.exited, 137)
  await assert.rejects(spawnLight({ file: '/no/such/conmon', args: [], env: {}, cwd: '/', stdio: ['ignore', 'read'] }), (err: NodeJS.ErrnoException) => err.code === 'ENOENT' && /posix_spawn: No such file or directory/.test(err.message))
  assert.equal(await spawnLight({ file: 'sh', args: [], env: {}, cwd: '/', stdio: [] }), undefined)
})

const readAll = (fd: number): Promise<{ text: string, chunks: number }> => new Promise((resolve) => {
  const parts: Buffer[] = []
  readFd(fd, (chunk) => { if (chunk === null) resolve({ text: Buffer.concat(parts).toString(), chunks: parts.length }); else parts.push(chunk) })
})

test('bare pipe ends ("read-fd", "write-fd"): no Socket, the fds themselves; readFd reads to EOF and closes the fd', async () => {
  const c = await sh('read x <&4; printf "got %s\\n" "$x" >&3; head -c 100000 /dev/zero >&3', ['ignore', 'ignore', 'ignore', 'read-fd', 'write-fd'])
  assert.equal(c.pipes[3], undefined)
  assert.equal(c.pipes[4], undefined)
  const [r, w] = [c.fds[3] as number, c.fds[4] as number]
  writeSync(w, 'hello\n')
  closeSync(w)
  const got = await readAll(r)
  assert.equal(got.text.slice(0, 10), 'got hello\n')
  assert.equal(got.text.length, 10 + 100000)
  assert.equal(await c.exited, 0)
  // The reader closed its fd after EOF (its callback came first; the close follows on the loop).
  await new Promise((resolve) => setImmediate(resolve))
  assert.throws(() => fstatSync(r), { code: 'EBADF' })
})

test('readFd: close() stops it at once, with no further callback, and closes the fd', async () => {
  const c = await sh('echo first >&3; sleep 0.3; echo second >&3', ['ignore', 'ignore', 'ignore', 'read-fd'])
  const r = c.fds[3] as number
  const seen: Array<string | null> = []
  let reader: { close: () => void } | undefined
  await new Promise<void>((resolve) => {
    reader = readFd(r, (chunk) => { seen.push(chunk === null ? null : chunk.toString()); resolve() })
  })
  reader?.close()
  // The read end is gone: the child's second echo dies of SIGPIPE.
  assert.equal(await c.exited, 141)
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual(seen, ['first\n'])
  assert.throws(() => fstatSync(r), { code: 'EBADF' })
})
