// Image uploads (docker import: POST /images/create?fromSrc=-, docker load: POST /images/load) that stall are
// aborted after upload_idle_timeout_seconds (1 s here): 408 with Docker's {"message"}, the connection closed, no
// image, no layer and no staging directory kept, and the service goes on answering. A slow upload that keeps
// sending is not cut; an archive with an absolute member name is refused with 400.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { DOCKER_BIN, startApi, type Api } from './lib'
import { makeTar } from '../fixtures/make-tar'

let api: Api

before(async () => { api = await startApi('upload-idle', { env: { CONEX_UPLOAD_IDLE_TIMEOUT_SECONDS: '1' } }) })
after(async () => { await api.stop() })

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// A raw connection: what the service wrote back, and when it closed the connection.
// `reply()` also names a socket error, so a failure says whether the service answered at all.
function open (): { sock: Socket, reply: () => string, closed: Promise<number> } {
  const sock = connect(api.sock)
  let got = ''
  let error = ''
  sock.on('data', (d: Buffer) => { got += d.toString() })
  sock.on('error', (err) => { error = ` [socket error: ${err.message}]` /* a reset by the service is fine */ })
  const closed = new Promise<number>((resolve) => sock.once('close', () => resolve(Date.now())))
  return { sock, reply: () => got === '' ? error : got, closed }
}

// Half a layer tar: one member whose body is announced as 64 KiB but only 4 KiB of it is sent.
const partial = makeTar([{ path: 'big', body: Buffer.alloc(64 * 1024, 1) }]).subarray(0, 512 + 4096)

// Nothing of an upload is kept: no image besides the built-in ones, no layer, no staging directory.
async function assertNothingKept (imagesBefore: number, layersBefore: string[]): Promise<void> {
  const images = await api.call('GET', '/images/json')
  assert.equal(images.json().length, imagesBefore, images.text)
  const layers = join(api.store.root, 'layers')
  assert.deepEqual(existsSync(layers) ? readdirSync(layers) : [], layersBefore)
  const tmp = join(api.store.root, 'tmp')
  assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [])
}

const snapshot = async (): Promise<{ images: number, layers: string[] }> => {
  const layers = join(api.store.root, 'layers')
  return { images: (await api.call('GET', '/images/json')).json().length, layers: existsSync(layers) ? readdirSync(layers) : [] }
}

for (const [what, path, chunked] of [
  ['import (fromSrc=-), Content-Length', '/v1.41/images/create?fromSrc=-&repo=localhost/stalled&tag=1', false],
  ['load, chunked (as the docker CLI sends it)', '/v1.41/images/load?quiet=1', true],
] as const) {
  test(`a stalled ${what} upload gets 408 after the idle time, and nothing is kept`, { timeout: 30_000 }, async () => {
    const before = await snapshot()
    const c = open()
    const t0 = Date.now()
    const head = `POST ${path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\n` +
      (chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : 'Content-Length: 1048576\r\n\r\n')
    c.sock.write(head)
    c.sock.write(chunked ? Buffer.concat([Buffer.from(`${partial.length.toString(16)}\r\n`), partial, Buffer.from('\r\n')]) : partial)
    // ... and nothing more: the service must give up on its own.
    const closedAt = await Promise.race([c.closed, sleep(15_000).then(() => 0)])
    assert.ok(closedAt > 0, `the service kept the stalled upload open; it wrote: ${JSON.stringify(c.reply())}`)
    const elapsed = closedAt - t0
    assert.ok(elapsed >= 900 && elapsed < 10_000, `closed after ${elapsed} ms`)
    const reply = c.reply()
    assert.match(reply, /^HTTP\/1\.1 408 Request Timeout\r\n/)
    assert.match(reply, /\r\nConnection: close\r\n/i)
    assert.deepEqual(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)), { message: 'upload aborted: no data received for 1 s' })
    await assertNothingKept(before.images, before.layers)
    const ping = await api.call('GET', '/_ping')
    assert.equal(ping.status, 200)
    assert.equal(ping.text, 'OK')
  })
}

test('an upload refused before its body is read (a bad name) gets its 400 at once; the unread body cannot time out into a crash', { timeout: 30_000 }, async () => {
  const c = open()
  // Head and partial body in one write: sent separately, the second write can meet the connection the service
  // already closed after its early 400 (EPIPE), and this client would drop the reply unread.
  c.sock.write(Buffer.concat([Buffer.from('POST /v1.41/images/create?fromSrc=-&repo=bad%20name HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\nContent-Length: 1048576\r\n\r\n'), partial]))
  const closedAt = await Promise.race([c.closed, sleep(15_000).then(() => 0)])
  assert.ok(closedAt > 0, `the service kept the connection; it wrote: ${JSON.stringify(c.reply())}`)
  const reply = c.reply()
  assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/)
  assert.deepEqual(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)), { message: 'invalid reference format: "bad name"' })
  await sleep(1_500) // past the idle time
  assert.equal(api.proc.exitCode, null, `the service exited: ${api.log()}`)
  assert.equal((await api.call('GET', '/_ping')).status, 200)
})

test('the docker CLI shows the 408\'s message when its import or load stalls (stdin held open)', { skip: DOCKER_BIN === '' ? 'docker is not installed' : false, timeout: 60_000 }, async () => {
  const before = await snapshot()
  for (const args of [['import', '-', 'localhost/stalled-cli:1'], ['load']]) {
    const p = spawn(DOCKER_BIN, args, { env: { ...process.env, DOCKER_HOST: api.host, DOCKER_CLI_HINTS: 'false' }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    p.stderr.on('data', (d: Buffer) => { out += d.toString() })
    p.stdin.on('error', () => { /* closed by the CLI on its error */ })
    p.stdin.write(partial) // and nothing more, with stdin left open
    const code = await Promise.race([new Promise<number | null>((resolve) => p.once('exit', resolve)), sleep(20_000).then(() => 'hung')])
    p.kill('SIGKILL')
    assert.equal(code, 1, `docker ${args.join(' ')}: ${out}`)
    assert.equal(out, 'Error response from daemon: upload aborted: no data received for 1 s\n')
  }
  await assertNothingKept(before.images, before.layers)
})

test('an upload that is slow but keeps sending is not cut by the idle timeout', { timeout: 30_000 }, async () => {
  const tar = makeTar([{ path: 'slow.txt', body: 'slow but steady\n' }])
  const c = open()
  c.sock.write(`POST /v1.41/images/create?fromSrc=-&repo=localhost/slow&tag=1 HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\nContent-Length: ${tar.length}\r\nConnection: close\r\n\r\n`)
  // 4 pieces, 600 ms apart: 1.8 s in all, longer than the 1 s idle time, never idle for 1 s.
  const step = Math.ceil(tar.length / 4)
  for (let off = 0; off < tar.length; off += step) {
    c.sock.write(tar.subarray(off, off + step))
    await sleep(600)
  }
  await c.closed
  assert.match(c.reply(), /^HTTP\/1\.1 200 OK\r\n/)
  assert.match(c.reply(), /\{"status":"sha256:[0-9a-f]{64}"\}/)
  const del = await api.call('DELETE', '/images/localhost/slow:1')
  assert.equal(del.status, 200, del.text)
})

test('an archive with an absolute member name is refused with 400 and Docker\'s {"message"} (import and load)', { timeout: 30_000 }, async () => {
  const before = await snapshot()
  const tar = makeTar([{ path: './', type: 'dir' }, { path: '/etc/conex-upload-abs', body: 'x\n' }])
  const imp = await api.call('POST', '/images/create?fromSrc=-&repo=localhost/abs', tar, { 'Content-Type': 'application/x-tar' })
  assert.equal(imp.status, 400, imp.text)
  assert.deepEqual(imp.json(), { message: 'archive entry "/etc/conex-upload-abs" has an absolute path; layer entries must be relative' })
  const load = await api.call('POST', '/images/load', tar, { 'Content-Type': 'application/x-tar' })
  assert.equal(load.status, 400, load.text)
  assert.deepEqual(load.json(), { message: 'archive member "/etc/conex-upload-abs" has an absolute path; archive members must be relative' })
  assert.equal(existsSync('/etc/conex-upload-abs'), false)
  await assertNothingKept(before.images, before.layers)
})
