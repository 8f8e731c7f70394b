import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canHandOver, handOverFds } from './hand-over'

let dir: string
let server: Server
let client: Socket
const opened: number[] = []
const open = (path: string, flags: number): number => { const fd = openSync(path, flags); opened.push(fd); return fd }

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conex-handover-'))
  server = createServer(() => undefined)
  await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve))
  client = connect(join(dir, 'sock'))
  await new Promise((resolve) => client.once('connect', resolve))
})
after(() => {
  for (const fd of opened) closeSync(fd)
  client.destroy()
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

test('pipes, regular files, /dev/null and block devices can be the process\'s own', () => {
  writeFileSync(join(dir, 'file'), 'x')
  execFileSync('mkfifo', [join(dir, 'fifo')])
  assert.equal(canHandOver(open(join(dir, 'file'), constants.O_RDONLY)), true)
  assert.equal(canHandOver(open(join(dir, 'fifo'), constants.O_RDWR)), true)
  assert.equal(canHandOver(open('/dev/null', constants.O_WRONLY)), true)
  assert.equal(canHandOver(open('/dev/zero', constants.O_RDONLY)), true)
})

test('terminals, sockets, directories and closed fds cannot', () => {
  assert.equal(canHandOver(open('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY)), false)
  const sockFd = (client as unknown as { _handle: { fd: number } })._handle.fd
  assert.ok(sockFd > 2)
  assert.equal(canHandOver(sockFd), false)
  assert.equal(canHandOver(open(dir, constants.O_RDONLY | constants.O_DIRECTORY)), false)
  const fd = openSync('/dev/null', constants.O_RDONLY)
  closeSync(fd)
  assert.equal(canHandOver(fd), false)
})

test('handOverFds: each stream handed over or copied; nothing when none can be; stdin only with -i', () => {
  const file = open(join(dir, 'file'), constants.O_RDONLY)
  const nul = open('/dev/null', constants.O_WRONLY)
  const pty = open('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY)
  const sockFd = (client as unknown as { _handle: { fd: number } })._handle.fd
  assert.deepEqual(handOverFds({ stdin: true }, [file, nul, nul]), { stdin: file, stdout: nul, stderr: nul })
  assert.deepEqual(handOverFds({ stdin: false }, [pty, nul, nul]), { stdout: nul, stderr: nul })
  assert.deepEqual(handOverFds({ stdin: true }, [pty, nul, nul]), { stdin: 'copy', stdout: nul, stderr: nul })
  assert.deepEqual(handOverFds({ stdin: false }, [file, pty, nul]), { stdout: 'copy', stderr: nul })
  assert.deepEqual(handOverFds({ stdin: false }, [file, nul, pty]), { stdout: nul, stderr: 'copy' })
  assert.deepEqual(handOverFds({ stdin: true }, [file, pty, sockFd]), { stdin: file, stdout: 'copy', stderr: 'copy' })
  assert.equal(handOverFds({ stdin: false }, [file, pty, sockFd]), undefined)
  assert.equal(handOverFds({ stdin: true }, [pty, pty, pty]), undefined)
})
