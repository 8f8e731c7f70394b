// Backpressure from a slow client reaches the process: while an API client does not read, conmon blocks writing to
// the engine and the process waits on its stdout; nothing piles up in the service, and once the client reads again
// every byte arrives, in order.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { Socket } from 'node:net'
import { makeStore, type Store } from '../helpers'
import { api, hijackStart, sleep, startService, until, type Service } from './lib'

let store: Store
let svc: Service

before(async () => {
  store = makeStore('backpressure')
  svc = await startService(store)
  const r = await store.conex(['run', '-d', '--name', 'bp', 'busybox', 'sleep', '100000'])
  assert.equal(r.code, 0, r.stderr)
})
after(async () => { await svc?.stop(); await store?.cleanup() })

// 400 chunks of 256 KiB (100 MiB); after each, the chunk count goes to /tmp/count.
const CHUNKS = 400
const CHUNK = 262144
const WRITER = ['sh', '-c', `i=0; while [ $i -lt ${CHUNKS} ]; do head -c ${CHUNK} /dev/zero; i=$((i+1)); echo $i > /tmp/count; done`]

async function chunkCount (): Promise<number> {
  const r = await store.conex(['exec', 'bp', 'cat', '/tmp/count'])
  return r.code === 0 ? Number(r.out.trim()) : 0
}

test('a client that stops reading stops the process; when it reads again every byte arrives', async (t) => {
  const c = await api(svc.sock, 'POST', '/v1.44/containers/bp/exec', { AttachStdout: true, AttachStderr: true, Cmd: WRITER })
  assert.equal(c.status, 201, c.body)
  const id = c.json().Id as string
  let sock: Socket | undefined
  let got = 0
  const hash = createHash('sha256')
  const paused = new Promise<void>((resolve) => {
    void hijackStart(svc.sock, id, {
      timeoutMs: 300_000,
      onStdout: (d) => { got += d.length; hash.update(d) },
      onSocket: (s) => {
        sock = s
        // Read the first MiB, then stop reading.
        const onData = (): void => { if (got >= 1024 * 1024) { s.removeListener('data', onData); s.pause(); resolve() } }
        s.on('data', onData)
      },
    }).then((r) => { finished = r })
  })
  let finished: Awaited<ReturnType<typeof hijackStart>> | undefined
  await paused
  // The writer gets at most as far as the buffers between it and the client hold (pipe, conmon's socket, the
  // engine's batch and high-water mark, the client's socket): a few MiB. Without backpressure it would be done
  // in well under a second; give it three.
  await until(async () => (await chunkCount()) > 0, 60_000, 'the writer to count its first chunk')
  await sleep(3000)
  const stalled = await chunkCount()
  t.diagnostic(`writer stalled at chunk ${stalled} of ${CHUNKS}`)
  assert.ok(stalled < CHUNKS / 5, `the writer ran on to chunk ${stalled} of ${CHUNKS} while the client was not reading`)
  const inspect = (await api(svc.sock, 'GET', `/v1.44/exec/${id}/json`)).json()
  assert.equal(inspect.Running, true)
  sock?.resume()
  const t0 = Date.now()
  await until(() => finished !== undefined, 300_000, 'the exec to end')
  t.diagnostic(`the rest took ${Date.now() - t0} ms`)
  assert.equal(finished?.status, 101)
  assert.equal(got, CHUNKS * CHUNK)
  assert.equal(hash.digest('hex'), createHash('sha256').update(Buffer.alloc(CHUNKS * CHUNK)).digest('hex'))
  assert.equal(await chunkCount(), CHUNKS)
  const end = (await api(svc.sock, 'GET', `/v1.44/exec/${id}/json`)).json()
  assert.equal(end.Running, false)
  assert.equal(end.ExitCode, 0)
})
