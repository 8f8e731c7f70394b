import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { closeSync, mkdtempSync, readSync, rmSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { constants } from 'node:os'
import { startSplice, spliceAvailable } from './splice'

const { ECANCELED, EPIPE } = constants.errno
import { loadAddon } from './addon'

const pipe = (): [number, number] => loadAddon<{ pipe: (size?: number) => [number, number] }>('procspawn').pipe(65536)

// A connected pair of unix stream sockets: [server side, client side].
async function socketPair (): Promise<{ server: Socket, client: Socket, close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'conex-splice-'))
  const srv = createServer({ allowHalfOpen: true, pauseOnConnect: true })
  await new Promise<void>((resolve) => srv.listen(join(dir, 's'), resolve))
  const accepted = new Promise<Socket>((resolve) => srv.once('connection', resolve))
  const client = connect(join(dir, 's'))
  const server = await accepted
  return { server, client, close: () => { client.destroy(); server.destroy(); srv.close(); rmSync(dir, { recursive: true, force: true }) } }
}

// Hashes what a pipe's read end gives until EOF, in another process (sha256sum), which takes the fd and closes ours.
function drain (fd: number): Promise<string> {
  const child = spawn('sha256sum', [], { stdio: [fd, 'pipe', 'inherit'] })
  closeSync(fd)
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  return new Promise((resolve) => child.on('close', () => resolve(out.split(' ')[0])))
}

test('8 MiB from a socket into a pipe byte for byte; EOF on the socket ends it with 0', { skip: !spliceAvailable() }, async () => {
  const p = await socketPair()
  const [r, w] = pipe()
  const data = randomBytes(8 << 20)
  const got = drain(r)
  const done = new Promise<[number, number]>((resolve) => startSplice((p.server as unknown as { _handle: { fd: number } })._handle.fd, w, (e, n) => resolve([e, n])))
  p.client.end(data)
  const [err, n] = await done
  closeSync(w)
  assert.equal(err, 0)
  assert.equal(n, data.length)
  assert.equal(await got, createHash('sha256').update(data).digest('hex'))
  p.close()
})

test('stop() ends a splice that waits for data: ECANCELED, and the caller\'s fds stay open', { skip: !spliceAvailable() }, async () => {
  const p = await socketPair()
  const [r, w] = pipe()
  const fd = (p.server as unknown as { _handle: { fd: number } })._handle.fd
  const done = new Promise<number>((resolve) => { const h = startSplice(fd, w, (e) => resolve(e)); setTimeout(() => h.stop(), 50) })
  assert.equal(await done, ECANCELED)
  p.client.write('after')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const b = Buffer.alloc(16)
  const n = readSync(fd, b)
  assert.equal(b.subarray(0, n).toString(), 'after')
  closeSync(w); closeSync(r)
  p.close()
})

test('a pipe whose reader is gone: EPIPE', { skip: !spliceAvailable() }, async () => {
  const p = await socketPair()
  const [r, w] = pipe()
  closeSync(r)
  const done = new Promise<number>((resolve) => startSplice((p.server as unknown as { _handle: { fd: number } })._handle.fd, w, (e) => resolve(e)))
  p.client.write('x')
  assert.equal(await done, EPIPE)
  closeSync(w)
  p.close()
})
