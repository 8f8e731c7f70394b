// The exec hijack protocol on the wire, with a raw socket client: the 101/200 head and its content type by API
// version, one stdcopy frame per chunk the process wrote, framing by the start body's Tty, half-close as stdin EOF,
// the exit code recorded before the connection closes, errors written into the stream, detach keys, a client that
// goes away, and libpod's differences (201 resize, numeric ExitCode, string DetachKeys, remove).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { startApi, demux, waitFor, type Api } from './lib'

let api: Api

before(async () => {
  api = await startApi('exec-protocol')
  const r = await api.store.conex(['run', '-d', '--name', 'e1', 'busybox', 'sleep', '1000'])
  assert.equal(r.code, 0, r.stderr)
})
after(async () => { await api.stop() })

async function createExec (body: Record<string, unknown>, prefix = ''): Promise<string> {
  const r = await api.call('POST', `${prefix}/containers/e1/exec`, { AttachStdout: true, AttachStderr: true, ...body })
  assert.equal(r.status, 201, r.text)
  return r.json().Id as string
}

interface Hijacked { sock: Socket, head: string, rest: () => Buffer, ended: Promise<Buffer> }

// POSTs exec start on a raw connection; resolves once the response head is in.
function startRaw (id: string, body: unknown, o: { upgrade?: boolean, prefix?: string, trailing?: string } = {}): Promise<Hijacked> {
  return new Promise((resolve, reject) => {
    const sock = connect(api.sock)
    const data = Buffer.from(JSON.stringify(body))
    const chunks: Buffer[] = []
    let headDone = false
    let endResolve: (b: Buffer) => void = () => undefined
    const ended = new Promise<Buffer>((r) => { endResolve = r })
    const all = (): Buffer => Buffer.concat(chunks)
    sock.on('data', (d: Buffer) => {
      chunks.push(d)
      if (headDone) return
      const buf = all()
      const i = buf.indexOf('\r\n\r\n')
      if (i === -1) return
      headDone = true
      chunks.length = 0
      chunks.push(buf.subarray(i + 4))
      resolve({ sock, head: buf.subarray(0, i).toString(), rest: all, ended })
    })
    sock.on('end', () => endResolve(all()))
    sock.on('close', () => endResolve(all()))
    sock.on('error', reject)
    const up = o.upgrade === false ? '' : 'Connection: Upgrade\r\nUpgrade: tcp\r\n'
    // One write: head, body and (on the upgrade path) stdin that rides along with them.
    sock.write(Buffer.concat([Buffer.from(`POST ${o.prefix ?? ''}/exec/${id}/start HTTP/1.1\r\nHost: x\r\n${up}Content-Type: application/json\r\nContent-Length: ${data.length}\r\n\r\n`), data, Buffer.from(o.trailing ?? '')]))
  })
}

const inspect = async (id: string, prefix = ''): Promise<Record<string, any>> => (await api.call('GET', `${prefix}/exec/${id}/json`)).json()

test('with Upgrade: 101 UPGRADED, multiplexed content type from API 1.42, raw-stream before', { timeout: 120_000 }, async () => {
  const h = await startRaw(await createExec({ Cmd: ['true'] }), {})
  assert.match(h.head, /^HTTP\/1\.1 101 UPGRADED\r\n/)
  assert.match(h.head, /\r\nContent-Type: application\/vnd\.docker\.multiplexed-stream\r\n/)
  assert.match(h.head, /\r\nConnection: Upgrade\r\n/)
  assert.match(h.head, /\r\nUpgrade: tcp\r\n/)
  await h.ended
  const id = await createExec({ Cmd: ['true'] })
  const old = await startRaw(id, {}, { prefix: '/v1.41' })
  assert.match(old.head, /\r\nContent-Type: application\/vnd\.docker\.raw-stream\r\n/)
  await old.ended
})

test('without Upgrade: 200 OK, then the stream on the same connection', { timeout: 120_000 }, async () => {
  const h = await startRaw(await createExec({ Cmd: ['sh', '-c', 'echo plain'] }), {}, { upgrade: false })
  assert.match(h.head, /^HTTP\/1\.1 200 OK\r\n/)
  assert.doesNotMatch(h.head, /Content-Length|Transfer-Encoding/)
  assert.deepEqual(demux(await h.ended).map((f) => [f.stream, f.data.toString()]), [[1, 'plain\n']])
})

test('one frame per chunk the process wrote, stdout 1 and stderr 2; the exit code is recorded before the close', { timeout: 120_000 }, async () => {
  const id = await createExec({ Cmd: ['sh', '-c', 'printf a; sleep 0.2; printf bb >&2; sleep 0.2; printf ccc; exit 6'] })
  const h = await startRaw(id, { Detach: false, Tty: false })
  const frames = demux(await h.ended)
  assert.deepEqual(frames.map((f) => [f.stream, f.data.toString()]), [[1, 'a'], [2, 'bb'], [1, 'ccc']])
  // Asked the moment the stream ended: no window where the session looks still running.
  const i = await inspect(id)
  assert.equal(i.Running, false)
  assert.equal(i.ExitCode, 6)
})

test('Env: an entry without = unsets that variable for the session, as dockerd does (docker exec -e NAME, NAME unset)', { timeout: 120_000 }, async () => {
  // The environment itself (busybox's sh would make up a HOSTNAME variable of its own).
  const id = await createExec({ Cmd: ['sh', '-c', 'env | grep "^HOSTNAME=" || echo no-HOSTNAME; echo "[${NOSUCH-unset}] [$A]"'], Env: ['HOSTNAME', 'NOSUCH', 'A=1'] })
  const h = await startRaw(id, { Detach: false, Tty: false })
  assert.equal(demux(await h.ended).map((f) => f.data.toString()).join(''), 'no-HOSTNAME\n[unset] [1]\n')
  assert.equal((await inspect(id)).ExitCode, 0)
})

test('container inspect\'s ExecIDs lists a session while created or running, and drops it once ended (as dockerd)', { timeout: 120_000 }, async () => {
  const execIds = async (): Promise<string[]> => ((await api.call('GET', '/containers/e1/json')).json().ExecIDs as string[] | null) ?? []
  const id = await createExec({ Cmd: ['sh', '-c', 'sleep 0.3'] })
  assert.ok((await execIds()).includes(id), 'created')
  const r = await api.call('POST', `/exec/${id}/start`, { Detach: true })
  assert.equal(r.status, 200, r.text)
  await waitFor('the session to end', async () => (await inspect(id)).Running === false ? true : undefined)
  assert.equal((await execIds()).includes(id), false)
  assert.equal((await inspect(id)).ExitCode, 0, 'still inspectable by id')
})

test('the start body\'s Tty decides the framing; a tty exec is raw', { timeout: 120_000 }, async () => {
  const tty = await startRaw(await createExec({ Cmd: ['sh', '-c', 'echo raw'], Tty: true }), { Tty: true })
  assert.match(tty.head, /Content-Type: application\/vnd\.docker\.raw-stream/)
  assert.equal((await tty.ended).toString(), 'raw\r\n')
  const framed = await startRaw(await createExec({ Cmd: ['sh', '-c', 'echo framed'] }), { Tty: false })
  assert.deepEqual(demux(await framed.ended).map((f) => f.data.toString()), ['framed\n'])
})

test('client half-close is stdin EOF; bytes sent right behind the body are not lost', { timeout: 120_000 }, async () => {
  const id = await createExec({ Cmd: ['sh', '-c', 'cat; echo eof-seen'], AttachStdin: true })
  const h = await startRaw(id, {}, { trailing: 'first line\n' })
  h.sock.end('second line\n')
  assert.deepEqual(demux(await h.ended).map((f) => f.data.toString()).join(''), 'first line\nsecond line\neof-seen\n')
  assert.equal((await inspect(id)).ExitCode, 0)
})

test('ConsoleSize on create sets the tty size before the process starts; resize changes it (200, libpod 201)', { timeout: 120_000 }, async () => {
  // The shell prints its size at start and again for every line typed; q ends it.
  const id = await createExec({ Cmd: ['sh', '-c', 'stty size; while read x; do [ "$x" = q ] && exit 0; stty size; done'], Tty: true, AttachStdin: true, ConsoleSize: [11, 55] })
  const h = await startRaw(id, { Tty: true })
  await waitFor('the first size', () => h.rest().toString().includes('11 55') ? true : undefined)
  const r = await api.call('POST', `/exec/${id}/resize?h=12&w=66`)
  assert.equal(r.status, 200)
  assert.equal((await api.call('POST', `/v4.3.1/libpod/exec/${id}/resize?h=13&w=77`)).status, 201)
  // conmon applies resizes on its own loop (ctl FIFO → pty ioctl), not in order with stdin: ask until the last
  // size shows, rather than assuming it landed before the next line was read.
  // On a timeout the output so far tells a lost resize (sizes printed, never 13 77) from stalled input (none printed).
  await waitFor('the last size', async () => {
    h.sock.write('\n')
    await new Promise((resolve) => setTimeout(resolve, 100))
    return h.rest().toString().includes('13 77\r\n') ? true : undefined
  }).catch((err: Error) => { throw new Error(`${err.message}; output so far: ${JSON.stringify(h.rest().toString().slice(-300))}`) })
  h.sock.write('q\n')
  const out = (await h.ended).toString()
  assert.ok(out.startsWith('11 55\r\n'), JSON.stringify(out))
  assert.ok(out.endsWith('13 77\r\nq\r\n'), JSON.stringify(out))
  assert.equal((await inspect(id)).ExitCode, 0)
})

test('a command that cannot run: the head, then the error in a stderr frame; ExitCode 127', { timeout: 120_000 }, async () => {
  const id = await createExec({ Cmd: ['/no/such/binary'] })
  const h = await startRaw(id, {})
  assert.match(h.head, /^HTTP\/1\.1 101 UPGRADED/)
  const frames = demux(await h.ended)
  assert.equal(frames.length, 1)
  assert.equal(frames[0].stream, 2)
  assert.match(frames[0].data.toString(), /^Error: .*no such file or directory.*\n$/)
  assert.equal((await inspect(id)).ExitCode, 127)
})

test('a second start is 409, before any hijack; an unknown session is 404', { timeout: 120_000 }, async () => {
  const id = await createExec({ Cmd: ['true'] })
  await (await startRaw(id, {})).ended
  const again = await startRaw(id, {})
  assert.match(again.head, /^HTTP\/1\.1 409 Conflict\r\n/)
  assert.match((await again.ended).toString(), /"message":"exec session [0-9a-f]+ has already run"/)
  const none = await startRaw('a'.repeat(64), {})
  assert.match(none.head, /^HTTP\/1\.1 404 /)
})

test('detach keys typed on a tty end the attach; the session runs on; inspect shows the keys as base64', { timeout: 120_000 }, async () => {
  const id = await createExec({ Cmd: ['sh', '-c', 'cat; sleep 30'], Tty: true, AttachStdin: true, DetachKeys: 'ctrl-x,ctrl-y' })
  assert.equal((await inspect(id)).DetachKeys, Buffer.from([24, 25]).toString('base64'))
  const h = await startRaw(id, { Tty: true })
  h.sock.write('before\n')
  await waitFor('the echo', () => h.rest().includes('before') ? true : undefined)
  h.sock.write(Buffer.from([24, 25]))
  const out = await h.ended
  assert.doesNotMatch(out.toString(), /\x18|\^X/, 'the keys never reached the process')
  const i = await inspect(id)
  assert.equal(i.Running, true)
  assert.equal(i.ExitCode, null)
  const dflt = await createExec({ Cmd: ['true'] })
  assert.equal((await inspect(dflt)).DetachKeys, 'EBE=')
})

test('a client that closes the connection detaches: the session runs on and its exit is recorded later', { timeout: 120_000 }, async () => {
  const id = await createExec({ Cmd: ['sh', '-c', 'sleep 1; exit 3'] })
  const h = await startRaw(id, {})
  h.sock.destroy()
  assert.equal((await inspect(id)).Running, true)
  const done = await waitFor('the exit to be recorded', async () => { const i = await inspect(id); return i.Running === false ? i : undefined }, 30_000)
  assert.equal(done.ExitCode, 3)
})

test('libpod: inspect has a numeric ExitCode (0 while running) and string DetachKeys; remove needs Force while running', { timeout: 120_000 }, async () => {
  const id = await createExec({ Cmd: ['sleep', '30'] }, '/v4.3.1/libpod')
  assert.equal((await api.call('POST', `/v4.3.1/libpod/exec/${id}/start`, { Detach: true })).status, 200)
  const i = await inspect(id, '/v4.3.1/libpod')
  assert.equal(i.Running, true)
  assert.equal(i.ExitCode, 0)
  assert.equal(i.DetachKeys, 'ctrl-p,ctrl-q')
  assert.equal((await api.call('POST', `/v4.3.1/libpod/exec/${id}/remove`, { Force: false })).status, 409)
  assert.equal((await api.call('POST', `/v4.3.1/libpod/exec/${id}/remove`, { Force: true })).status, 200)
  assert.equal((await api.call('GET', `/exec/${id}/json`)).status, 404)
})
