// Bad API input, fuzzed with fast-check against a real service (seeded; seed and counterexample printed on
// failure): malformed, huge and wrongly typed JSON bodies, bad query values, path tricks in ids, and clients that
// send half a request and stall. Every request gets a 4xx with a `message` (or succeeds where the random input
// happens to be valid) — never a 5xx, a crash or a hang — and the service's open fds are back where they were.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import fc from 'fast-check'
import { makeStore } from '../helpers'
import { api, fdCount, rawExchange, sleep, startService, until, type HttpReply, type Service } from './lib'

const SEED = Number(process.env.FUZZ_SEED ?? 20261129)
const RUNS = Number(process.env.FUZZ_API_RUNS ?? 150)

// A refusal: 4xx with a JSON message. Success (2xx/3xx) is fine for input that happens to be valid.
function refusedOrOk (r: HttpReply, what: string): void {
  assert.ok(r.status < 500, `${what}: ${r.status} ${r.body.slice(0, 300)}`)
  if (r.status >= 400) {
    let message: unknown
    try { message = r.json().message } catch { /* not JSON */ }
    assert.equal(typeof message, 'string', `${what}: ${r.status} without a JSON message: ${r.body.slice(0, 200)}`)
    assert.ok((message as string).length > 0, `${what}: empty message`)
  }
}

const junk = fc.string({ maxLength: 30, unit: 'grapheme' })
const weirdNumber = fc.oneof(junk, fc.constantFrom('-1', '4294967296', '18446744073709551616', '1e3', '0x10', ' 1', '1 ', 'NaN', 'Infinity', '-0', '1.5', '', '%00', '99999999999999999999999'), fc.integer().map(String))
const weirdId = fc.oneof(junk, fc.constantFrom('..%2F..%2Fetc', '..', '.', '%2e%2e', '%00', 'a%00b', '%', '%zz', 'x'.repeat(5000), '%2F', 'con%0Aex', '\u00e9t\u00e9'.repeat(3), '*', '?'))

test('API: malformed, huge and wrongly typed bodies, bad queries and path tricks → 4xx with a message, no leak', { timeout: 600_000 }, async () => {
  const store = makeStore('fuzz-api')
  const svc = await startService(store)
  try {
    const run = await store.conex(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '100000'])
    assert.equal(run.code, 0, run.stderr)
    const ping = async (): Promise<void> => { assert.equal((await api(svc.sock, 'GET', '/_ping')).status, 200, 'the service must still answer') }
    await ping()
    const fds0 = fdCount(svc.pid)

    // Bodies: random bytes, random JSON, and the right field names with values of the wrong type.
    const execFields = ['AttachStdin', 'AttachStdout', 'AttachStderr', 'ConsoleSize', 'DetachKeys', 'Tty', 'Env', 'Cmd', 'Privileged', 'User', 'WorkingDir']
    const createFields = ['Image', 'Cmd', 'Entrypoint', 'Env', 'Tty', 'OpenStdin', 'User', 'WorkingDir', 'Labels', 'StopSignal', 'StopTimeout', 'HostConfig', 'Hostname']
    const anyValue = fc.anything({ maxDepth: 3, maxKeys: 4, withNullPrototype: true, withBigInt: false })
    const bodyArb = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ raw: Buffer.from(b) })),
      fc.json({ maxDepth: 3 }).map((j) => ({ raw: Buffer.from(j) })),
      fc.dictionary(fc.constantFrom(...execFields), anyValue, { maxKeys: 5 }).map((o) => ({ raw: Buffer.from(JSON.stringify(o) ?? 'null') })),
      fc.dictionary(fc.constantFrom(...createFields), anyValue, { maxKeys: 5 }).map((o) => ({ raw: Buffer.from(JSON.stringify(o) ?? 'null') })),
    )
    const endpoints = ['/v1.44/containers/victim/exec', '/v1.44/containers/create', '/v1.44/exec/0000000000000000000000000000000000000000000000000000000000000000/start', '/v4.0.0/libpod/containers/create', '/v1.44/containers/victim/exec?x=1']
    await fc.assert(fc.asyncProperty(fc.constantFrom(...endpoints), bodyArb, async (path, b) => {
      const r = await api(svc.sock, 'POST', path, undefined, { rawBody: b.raw })
      refusedOrOk(r, `POST ${path} ${JSON.stringify(b.raw.toString().slice(0, 200))}`)
    }), { seed: SEED, numRuns: RUNS })

    // Huge and deep bodies.
    const huge = (extra: string): string => `POST /v1.44/containers/victim/exec HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}\r\n`
    const declared = await rawExchange(svc.sock, huge('Content-Length: 2097152\r\n') + ' '.repeat(2 * 1024 * 1024))
    assert.equal(declared.status, 413, `2 MiB body: ${declared.status} ${declared.body}`)
    refusedOrOk(declared, '2 MiB body')
    const chunked = await rawExchange(svc.sock, huge('Transfer-Encoding: chunked\r\n') + `200000\r\n${' '.repeat(0x200000)}\r\n0\r\n\r\n`)
    assert.equal(chunked.status, 413, `2 MiB chunked body: ${chunked.status} ${chunked.body}`)
    const upgraded = await rawExchange(svc.sock, huge('Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 2097152\r\n') + ' '.repeat(2 * 1024 * 1024))
    assert.equal(upgraded.status, 413, `2 MiB body on the upgrade path: ${upgraded.status} ${upgraded.body}`)
    refusedOrOk(await api(svc.sock, 'POST', '/v1.44/containers/victim/exec', undefined, { rawBody: '['.repeat(200_000) + ']'.repeat(200_000) }), 'deeply nested body')
    refusedOrOk(await api(svc.sock, 'POST', '/v1.44/containers/victim/exec', { Cmd: ['true'], Env: Array.from({ length: 5000 }, (_, i) => `K${i}=${'v'.repeat(100)}`) }), '5000 env entries')

    // Query values.
    const queries: Array<[string, string, string[]]> = [
      ['POST', '/v1.44/exec/ID/resize', ['h', 'w']], ['POST', '/v1.44/containers/victim/resize', ['h', 'w']],
      ['GET', '/v1.44/containers/json', ['all', 'limit', 'filters', 'size']], ['GET', '/v1.44/containers/victim/logs', ['tail', 'since', 'until', 'follow', 'stdout']],
      ['POST', '/v1.44/containers/victim/kill', ['signal']], ['GET', '/v1.44/events', ['since', 'until', 'filters']],
      ['POST', '/v1.44/containers/victim/wait', ['condition']], ['GET', '/v1.44/images/json', ['filters', 'all']],
      ['POST', '/v1.44/containers/create', ['name', 'platform']],
    ]
    const execId = (await api(svc.sock, 'POST', '/v1.44/containers/victim/exec', { Cmd: ['sleep', '1'], Tty: true })).json().Id as string
    await fc.assert(fc.asyncProperty(fc.constantFrom(...queries), fc.array(weirdNumber, { minLength: 4, maxLength: 4 }), async ([method, path, keys], values) => {
      const qs = keys.map((k, i) => `${k}=${encodeURIComponent(values[i % values.length])}`).join('&')
      // kill and wait with a valid value would act on the victim: only invalid values for those.
      if (path.endsWith('/kill') || path.endsWith('/wait')) {
        const r = await api(svc.sock, method, `${path}?${keys[0]}=BOGUS${encodeURIComponent(values[0])}`)
        assert.equal(r.status, 400, `${method} ${path}: ${r.status} ${r.body}`)
        return
      }
      // Events and follow-logs would stream forever: bound them with until.
      const url = `${path.replace('ID', execId)}?${qs}${path.endsWith('/events') || path.endsWith('/logs') ? '&until=1' : ''}`
      const r = await api(svc.sock, method, url, method === 'POST' && path.endsWith('/create') ? { Image: 'busybox', Cmd: ['true'] } : undefined, { timeoutMs: 20_000 })
      refusedOrOk(r, `${method} ${url}`)
      if (r.status === 201) await api(svc.sock, 'DELETE', `/v1.44/containers/${r.json().Id as string}?force=1`)
    }), { seed: SEED, numRuns: RUNS })
    for (const [h, w] of [['foo', '1'], ['-1', '10'], ['4294967296', '10'], ['10', '1e3'], ['', ''], ['1001', '10']]) {
      const r = await api(svc.sock, 'POST', `/v1.44/exec/${execId}/resize?h=${h}&w=${w}`)
      assert.equal(r.status, 400, `resize h=${h} w=${w}: ${r.status} ${r.body}`)
    }

    // Ids with path tricks, on every route that takes one.
    const idRoutes: Array<[string, string]> = [['GET', '/v1.44/containers/{}/json'], ['GET', '/v1.44/exec/{}/json'], ['GET', '/v1.44/images/{}/json'], ['DELETE', '/v1.44/containers/{}'], ['POST', '/v1.44/containers/{}/stop'], ['GET', '/v4.0.0/libpod/containers/{}/exists'], ['POST', '/v1.44/exec/{}/resize?h=1&w=1'], ['GET', '/v1.44/containers/{}/logs?stdout=1']]
    await fc.assert(fc.asyncProperty(fc.constantFrom(...idRoutes), weirdId, fc.boolean(), async ([method, tmpl], id, encode) => {
      const path = tmpl.replace('{}', encode ? encodeURIComponent(id) : id.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c)))
      let r: HttpReply
      try { r = await api(svc.sock, method, path, undefined, { timeoutMs: 20_000 }) } catch (err) {
        // Node's client refuses some paths itself (never sent): not the service's doing.
        if ((err as NodeJS.ErrnoException).code === 'ERR_UNESCAPED_CHARACTERS') return
        throw err
      }
      refusedOrOk(r, `${method} ${path.slice(0, 200)}`)
      assert.ok(r.status !== 200 || !/\.\./.test(decodeURIComponent(path)), `${method} ${path}: a path trick was served`)
    }), { seed: SEED, numRuns: RUNS })

    await ping()
    // Every connection above was closed by the client; the service must have let go of all of them.
    await until(() => fdCount(svc.pid) <= fds0, 15_000, `service fds back to ${fds0} (now ${fdCount(svc.pid)})`).catch((err) => { throw err })
    assert.ok(!svc.log().includes('internal error'), `the service logged internal errors:\n${svc.log().split('\n').filter((l) => l.includes('internal error')).slice(0, 5).join('\n')}`)
  } finally {
    await svc.stop()
    await store.cleanup()
  }
})

// Opens a raw connection, writes `data`, then stalls; resolves with how long the service took to close it.
function stall (svc: Service, data: string, o: { trickle?: string } = {}): Promise<number> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const s = connect(svc.sock, () => s.write(data))
    let timer: NodeJS.Timeout | undefined
    if (o.trickle !== undefined) {
      let i = 0
      const text = o.trickle
      timer = setInterval(() => { if (!s.destroyed) s.write(text[i++ % text.length]) }, 1000)
    }
    s.on('data', () => undefined)
    s.on('error', () => undefined)
    s.on('close', () => { if (timer !== undefined) clearInterval(timer); resolve(Date.now() - t0) })
    // The test's own bound: a service that never closes fails below, the socket is not left open.
    setTimeout(() => s.destroy(), 90_000).unref()
  })
}

test('API: half a request, a stalled body, a slowloris: the service closes them and keeps serving', { timeout: 300_000 }, async () => {
  const store = makeStore('fuzz-slow')
  const svc = await startService(store)
  try {
    await store.conex(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '100000'])
    assert.equal((await api(svc.sock, 'GET', '/_ping')).status, 200)
    const fds0 = fdCount(svc.pid)
    const slow = [
      stall(svc, 'GET /_ping HTTP/1.1\r\nHost: x\r\n'),
      stall(svc, 'POST /v1.44/containers/victim/exec HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Cmd":'),
      stall(svc, 'POST /v1.44/containers/victim/exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Cmd":'),
      stall(svc, 'GET /_ping HTTP/1.1\r\n', { trickle: 'X-Slow-Header: aaaaaaaaaaaaaaaaaaaaaa\r\n' }),
      stall(svc, 'POST /v1.44/containers/victim/exec HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"Cmd'),
    ]
    // While they stall, the service answers others.
    await sleep(1000)
    assert.equal((await api(svc.sock, 'GET', '/_ping')).status, 200)
    const took = await Promise.all(slow)
    for (const [i, ms] of took.entries()) assert.ok(ms < 80_000, `stalled client ${i} held for ${ms} ms`)
    console.log(`stalled clients closed after ${took.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`)
    await until(() => fdCount(svc.pid) <= fds0, 15_000, `service fds back to ${fds0}`)
    assert.equal((await api(svc.sock, 'GET', '/_ping')).status, 200)
  } finally {
    await svc.stop()
    await store.cleanup()
  }
})
