// The exec WebSocket (GET /conex/v1/exec/{id}/attach, Kubernetes' v5/v4.channel.k8s.io) against real conmon + runc:
// separated and exact output channels, the status JSON kubectl reads, resize, v5 stdin half-close, the refusals
// (400 subprotocol, 404 session, 409 state), ?record, and the audit requester.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { startTestEngine, startWsServer, runWs, frame, text, type TestEngine } from './lib'

let t: TestEngine
let ws: Awaited<ReturnType<typeof startWsServer>>

before(async () => {
  t = await startTestEngine('ws-exec')
  ws = await startWsServer({ engine: t.engine, requester: 'uid=4242 pid=1', allowRecord: true, stopOnDisconnect: false })
})
after(async () => {
  await ws?.close()
  await t?.close()
})

const url = (id: string, q = ''): string => `${ws.base}/conex/v1/exec/${id}/attach${q}`
const create = async (command: string[], o: { tty?: boolean, stdin?: boolean } = {}): Promise<string> =>
  (await t.engine.createExec('c1', { command, tty: o.tty ?? false, attachStdin: o.stdin ?? false, attachStdout: true, attachStderr: true, consoleSize: o.tty === true ? [24, 80] : undefined })).id

test('non-tty: stdout and stderr arrive on channels 1 and 2, byte for byte, then Success on 3 and close 1000', async () => {
  const id = await create(['sh', '-c', 'printf "out\\001\\377line\\n"; printf "err\\n" >&2; printf "more-out"'])
  const r = await runWs(url(id))
  assert.equal(r.protocol, 'v5.channel.k8s.io')
  assert.deepEqual(r.channels.get(1), Buffer.concat([Buffer.from('out\x01'), Buffer.from([0xff]), Buffer.from('line\nmore-out')]))
  assert.equal(text(r, 2), 'err\n')
  assert.deepEqual(r.status, { metadata: {}, status: 'Success' })
  assert.equal(r.order[r.order.length - 1], 3, 'the status is the last message')
  assert.equal(r.closeCode, 1000)
  assert.equal((await t.engine.getExec(id)).exitCode, 0)
})

test('exit 3: kubelet\'s NonZeroExitCode Failure with the exit code as a cause', async () => {
  const id = await create(['sh', '-c', 'exit 3'])
  const r = await runWs(url(id), { protocols: ['v4.channel.k8s.io'] })
  assert.equal(r.protocol, 'v4.channel.k8s.io')
  assert.deepEqual(r.status, {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  })
  assert.equal(r.closeCode, 1000)
})

test('a command that is not found reports exit code 127 in the status', async () => {
  const id = await create(['/no/such/command'])
  const r = await runWs(url(id))
  assert.equal(r.status?.reason, 'NonZeroExitCode')
  assert.deepEqual(r.status?.details, { causes: [{ reason: 'ExitCode', message: '127' }] })
})

test('v5: stdin on channel 0, then [255, 0] half-closes stdin and ends cat', async () => {
  const id = await create(['cat'], { stdin: true })
  const r = await runWs(url(id), {
    onOpen: (w) => {
      w.send(frame(0, 'hello '))
      w.send(frame(0, Buffer.from([0, 1, 2, 0xfe])))
      w.send(Buffer.from([255, 0]))
    },
  })
  assert.deepEqual(r.channels.get(1), Buffer.concat([Buffer.from('hello '), Buffer.from([0, 1, 2, 0xfe])]))
  assert.deepEqual(r.status, { metadata: {}, status: 'Success' })
})

test('tty: a resize on channel 4 changes what stty size reports', async () => {
  const id = await create(['sh'], { tty: true, stdin: true })
  let step = 0
  const r = await runWs(url(id), {
    onOpen: (w) => { w.send(frame(4, JSON.stringify({ Width: 100, Height: 30 }))); w.send(frame(0, 'stty size; echo mark-$((1+1))\r')) },
    onMessage: (w, run) => {
      const out = run.channels.get(1)?.toString() ?? ''
      if (step === 0 && out.includes('mark-2')) {
        step = 1
        w.send(frame(4, JSON.stringify({ Width: 132, Height: 43 })))
        // Give the ctl FIFO write a moment to land before asking again.
        setTimeout(() => w.send(frame(0, 'stty size; echo mark-$((2+1))\r')), 200)
      } else if (step === 1 && out.includes('mark-3')) {
        step = 2
        w.send(frame(0, 'exit 0\r'))
      }
    },
  })
  const out = text(r, 1)
  assert.match(out, /30 100\r\n(?:.*\r\n)?mark-2/, out)
  assert.match(out, /43 132\r\n(?:.*\r\n)?mark-3/, out)
  assert.equal(r.channels.get(2), undefined, 'a tty has no stderr channel')
  assert.deepEqual(r.status, { metadata: {}, status: 'Success' })
})

test('refusals: bad subprotocol 400, no subprotocol 400, missing session 404, started session 409', async () => {
  const id = await create(['true'])
  const bad = await runWs(url(id), { protocols: ['channel.k8s.io'] })
  assert.equal(bad.httpStatus, 400)
  assert.match(bad.httpBody ?? '', /unsupported WebSocket subprotocol.*v5\.channel\.k8s\.io/)
  const none = await runWs(url(id), { protocols: [] })
  assert.equal(none.httpStatus, 400)
  const missing = await runWs(url('0123456789abcdef'))
  assert.equal(missing.httpStatus, 404)
  assert.match(missing.httpBody ?? '', /no such exec session/)
  const first = await runWs(url(id))
  assert.equal(first.status?.status, 'Success')
  const again = await runWs(url(id))
  assert.equal(again.httpStatus, 409)
  const rel = await runWs(url(await create(['true']), '?record=relative.cast'))
  assert.equal(rel.httpStatus, 400)
})

test('a session whose container is paused is refused with 409 before the upgrade; once stopped, 404', async () => {
  const r = await t.store.conex(['run', '-d', '--name', 'c2', 'busybox', 'sleep', '1000'])
  assert.equal(r.code, 0, r.stderr)
  const s = await t.engine.createExec('c2', { command: ['true'] })
  await t.engine.pauseContainer('c2')
  const paused = await runWs(url(s.id))
  assert.equal(paused.httpStatus, 409)
  assert.match(paused.httpBody ?? '', /container c2 is paused/)
  // A created session does not outlive its container's run.
  await t.engine.unpauseContainer('c2')
  await t.engine.stopContainer('c2', 0)
  assert.equal((await runWs(url(s.id))).httpStatus, 404)
})

test('?record=PATH writes an asciicast v2 recording of the session', async () => {
  const path = join(t.store.runroot, 'ws.cast')
  const id = await create(['sh', '-c', 'echo recorded-$((6*7))'])
  const r = await runWs(url(id, `?record=${encodeURIComponent(path)}`))
  assert.equal(r.status?.status, 'Success')
  assert.ok(existsSync(path))
  const [header, ...events] = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)
  assert.equal((header as { version: number }).version, 2)
  assert.equal(events.map((e) => (e as [number, string, string])[2]).join(''), 'recorded-42\n')
})

test('the audit trail names the WebSocket client as the starter', async () => {
  const id = await create(['true'])
  await runWs(url(id))
  const seen: Array<{ action: string, requester?: string }> = []
  await t.engine.events({}, (e) => { if (e.id === id) seen.push({ action: e.action, requester: e.attributes.requester }) })
  assert.deepEqual(seen.find((e) => e.action === 'exec_start'), { action: 'exec_start', requester: 'uid=4242 pid=1' })
  assert.ok(seen.some((e) => e.action === 'exec_died'))
})

test('a client that goes away detaches: the session goes on running', async () => {
  const id = await create(['sh', '-c', 'echo started; sleep 30'])
  const r = await runWs(url(id), { onMessage: (w, run) => { if (text(run, 1).includes('started')) w.terminate() } })
  assert.equal(r.status, undefined)
  const s = await t.engine.getExec(id)
  assert.equal(s.state, 'running')
  await t.engine.stopExec(id, 0)
})
