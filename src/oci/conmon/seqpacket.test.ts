// The SEQPACKET addon against a real SOCK_SEQPACKET server (python3's socket module; conmon is not needed for this):
// every packet before the end, stream ids and payloads kept, a stream's consecutive packets joined, pause really
// stops reading, writes arrive as one packet each.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SeqpacketConn } from './seqpacket'

// A server that accepts one client, sends `count` packets as conmon does (a stream id byte, then the payload; packet i
// is i%251 repeated (i % 9000) + 1 times, so its id is i%251 and its payload i%9000 bytes; with a third argument
// "one-stream" every packet has id 2 and payload i%251 repeated (i % 8192) + 1 times), reports the sizes of the
// packets it receives on stdout, and closes when the client half-closes.
const SERVER = `
import os, socket, sys
path, count = sys.argv[1], int(sys.argv[2])
one = len(sys.argv) > 3
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path); s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
for i in range(count):
    if one: c.sendall(bytes([2]) + bytes([i % 251]) * ((i % 8192) + 1))
    else: c.sendall(bytes([i % 251]) * ((i % 9000) + 1))
print('sent', flush=True)
while True:
    d = c.recv(65536)
    if not d: break
    print(len(d), flush=True)
c.close()
`

function server (dir: string, count: number, oneStream = false): { proc: ChildProcess, path: string, lines: string[], said: (what: string) => Promise<void> } {
  const path = join(dir, 'sock')
  const proc = spawn('python3', ['-c', SERVER, path, String(count), ...(oneStream ? ['one-stream'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  const waiters: Array<() => void> = []
  let buf = ''
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString()
    const parts = buf.split('\n')
    buf = parts.pop() ?? ''
    lines.push(...parts)
    waiters.splice(0).forEach((w) => w())
  })
  const said = async (what: string): Promise<void> => {
    while (!lines.includes(what)) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  return { proc, path, lines, said }
}

test('every packet arrives in order with its stream id and payload, then the end; pause holds them back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conex-seqpacket-'))
  try {
    const count = 3000
    const srv = server(dir, count)
    await srv.said('ready')
    const conn = SeqpacketConn.connect(srv.path)
    conn.end() // the server closes once it has sent everything and sees our end
    const got: Array<[number, Buffer]> = []
    let ended: Error | undefined | null = null
    // The server blocks once the socket is full (~13 MB are sent in all); reading pauses at packet 100 for 200 ms.
    await new Promise<void>((resolve) => {
      conn.read({
        packet: (id, data) => {
          got.push([id, data])
          if (got.length === 100) {
            // The rest of the batch being delivered still comes (it has been read); no further batch does.
            conn.pause()
            setImmediate(() => {
              const atPause = got.length
              setTimeout(() => {
                assert.equal(got.length, atPause, 'packets arrived while paused')
                conn.resume()
              }, 200)
            })
          }
        },
        end: (err) => { ended = err; resolve() },
      })
    })
    assert.equal(ended, undefined)
    // Consecutive packets have different ids here, so none is joined; packet 0 has an empty payload and is skipped.
    assert.equal(got.length, count - 1)
    for (let i = 1; i < count; i++) {
      const [id, data] = got[i - 1]
      assert.equal(id, i % 251, `packet ${i} id`)
      assert.equal(data.length, i % 9000, `packet ${i} length`)
      assert.ok(data.every((b) => b === i % 251), `packet ${i} content`)
    }
    conn.destroy()
    srv.proc.kill()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('consecutive packets of one stream come as one contiguous piece per batch, bytes and order exact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conex-seqpacket-'))
  try {
    const count = 2000
    const srv = server(dir, count, true)
    await srv.said('ready')
    const conn = SeqpacketConn.connect(srv.path)
    conn.end()
    // Let the socket's queue fill before reading, so that the first batch holds several packets.
    await new Promise((resolve) => setTimeout(resolve, 100))
    const pieces: Buffer[] = []
    await new Promise<void>((resolve) => conn.read({ packet: (id, data) => { assert.equal(id, 2); pieces.push(data) }, end: () => resolve() }))
    const expected = Buffer.concat(Array.from({ length: count }, (_, i) => Buffer.alloc((i % 8192) + 1, i % 251)))
    assert.ok(Buffer.concat(pieces).equals(expected), 'the bytes, in order')
    assert.ok(pieces.length < count, `${pieces.length} pieces for ${count} packets: packets of a batch were joined`)
    conn.destroy()
    srv.proc.kill()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('writes arrive as one packet each; end() half-closes; a closed connection refuses writes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conex-seqpacket-'))
  try {
    const srv = server(dir, 0)
    await srv.said('ready')
    const conn = SeqpacketConn.connect(srv.path)
    const ended = new Promise<void>((resolve) => conn.read({ packet: () => undefined, end: () => resolve() }))
    const sizes = [1, 4096, 32768, 7, 32768]
    for (const n of sizes) await new Promise<void>((resolve, reject) => conn.write(Buffer.alloc(n, 1), (err) => err === undefined ? resolve() : reject(err)))
    conn.end()
    await ended
    await new Promise((resolve) => srv.proc.once('close', resolve))
    assert.deepEqual(srv.lines.filter((l) => /^\d+$/.test(l)).map(Number), sizes)
    conn.destroy()
    const refused = await new Promise<Error | undefined>((resolve) => conn.write(Buffer.from('x'), resolve))
    assert.match(String(refused?.message), /attach socket closed/)
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

// conmon closing its end while input we sent is still unread in its queue makes the kernel report ECONNRESET (and
// EPOLLERR) on our socket before the packets conmon sent earlier, which are still queued. They must not be lost.
const CLOSER = `
import socket, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path); s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
c.sendall(bytes([2]) + b'bye\\n')
c.sendall(bytes([3]) + b'err\\n')
time.sleep(0.3)  # the client writes meanwhile; its packet stays unread
c.close()
print('closed', flush=True)
`

test('output sent before conmon closed with our input unread arrives, then the end (no error)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conex-seqpacket-'))
  try {
    const path = join(dir, 'sock')
    const proc = spawn('python3', ['-c', CLOSER, path], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    const said = (what: string): Promise<void> => new Promise((resolve) => {
      const check = (): void => { if (out.includes(what)) resolve(); else proc.stdout?.once('data', (d: Buffer) => { out += d.toString(); check() }) }
      check()
    })
    await said('ready')
    const conn = SeqpacketConn.connect(path)
    await new Promise<void>((resolve, reject) => conn.write(Buffer.from('unread input'), (err) => err === undefined ? resolve() : reject(err)))
    await said('closed')
    const got: Array<[number, string]> = []
    const ended = await new Promise<Error | undefined>((resolve) => conn.read({ packet: (id, data) => got.push([id, data.toString()]), end: resolve }))
    assert.deepEqual(got, [[2, 'bye\n'], [3, 'err\n']])
    assert.equal(ended, undefined)
    conn.destroy()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('connecting to a missing socket throws ENOENT', async () => {
  assert.throws(() => SeqpacketConn.connect('/nonexistent/conex/sock'), { code: 'ENOENT' })
})
