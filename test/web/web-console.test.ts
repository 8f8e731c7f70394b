// The web console's server without a browser: the token (401 everywhere without it, cookie after the first visit,
// Bearer), web-url, the page and its assets, the JSON endpoints, and terminal sessions over its WebSocket.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { startTestEngine, runWs, frame, text, type TestEngine } from './lib'
import { startWebConsole, parseWebAddr, type WebConsole } from '../../src/web/web-console'

let t: TestEngine
let web: WebConsole
let base: string

before(async () => {
  t = await startTestEngine('web-console')
  web = await startWebConsole({ engine: t.engine, addr: '127.0.0.1:0', runroot: t.store.runroot, log: () => undefined })
  base = web.url.replace(/\/\?token=.*$/, '')
})
after(async () => {
  await web?.close()
  await t?.close()
})

const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(base + path, { headers, redirect: 'manual' })
const cookie = (): Record<string, string> => ({ Cookie: `conex_web_token=${web.token}` })
const bearer = (): Record<string, string> => ({ Authorization: `Bearer ${web.token}` })
const createSession = async (): Promise<string> => {
  const r = await fetch(`${base}/api/containers/c1/exec`, { method: 'POST', headers: { ...bearer(), 'Content-Type': 'application/json' }, body: JSON.stringify({ rows: 24, cols: 80 }) })
  assert.equal(r.status, 201)
  return ((await r.json()) as { id: string }).id
}

test('addresses: --web= is 127.0.0.1:9090; :PORT and PORT stay on loopback; URIs are refused', () => {
  assert.deepEqual(parseWebAddr(''), { host: '127.0.0.1', port: 9090 })
  assert.deepEqual(parseWebAddr(':8080'), { host: '127.0.0.1', port: 8080 })
  assert.deepEqual(parseWebAddr('8081'), { host: '127.0.0.1', port: 8081 })
  assert.deepEqual(parseWebAddr('0.0.0.0:80'), { host: '0.0.0.0', port: 80 })
  assert.deepEqual(parseWebAddr('[::1]:9090'), { host: '::1', port: 9090 })
  assert.throws(() => parseWebAddr('unix:///run/conex/conex.sock'), /invalid web console address/)
  assert.throws(() => parseWebAddr('127.0.0.1:70000'), /invalid web console address/)
})

test('the URL with a 24-byte token is in <runroot>/web-url, mode 0600', () => {
  assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/)
  assert.equal(readFileSync(web.urlFile, 'utf8'), web.url + '\n')
  assert.equal(statSync(web.urlFile).mode & 0o777, 0o600)
})

test('without the token every request gets 401: page, assets, API, WebSocket', async () => {
  for (const path of ['/', '/assets/xterm.js', '/assets/console.js', '/api/containers', '/nope']) {
    const r = await get(path)
    assert.equal(r.status, 401, path)
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/)
  }
  assert.equal((await get('/?token=wrong')).status, 401)
  assert.equal((await get('/api/containers', { Authorization: 'Bearer wrong' })).status, 401)
  const post = await fetch(`${base}/api/containers/c1/exec`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
  assert.equal(post.status, 401)
  const id = await createSession()
  const w = await runWs(`${base.replace('http', 'ws')}/conex/v1/exec/${id}/attach`)
  assert.equal(w.httpStatus, 401)
  await t.engine.removeExec(id, true)
})

test('the first visit with ?token sets an HttpOnly SameSite cookie and drops the token from the address bar', async () => {
  const r = await get(`/?token=${web.token}`)
  assert.equal(r.status, 303)
  assert.equal(r.headers.get('location'), '/')
  assert.equal(r.headers.get('set-cookie'), `conex_web_token=${web.token}; Path=/; HttpOnly; SameSite=Strict`)
  const page = await get('/', cookie())
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
  const html = await page.text()
  for (const asset of ['/assets/xterm.js', '/assets/addon-fit.js', '/assets/console.js', '/assets/xterm.css']) {
    assert.ok(html.includes(asset), asset)
    assert.equal((await get(asset, cookie())).status, 200, asset)
  }
  const xterm = Buffer.from(await (await get('/assets/xterm.js', cookie())).arrayBuffer())
  assert.deepEqual(xterm, readFileSync(resolve(__dirname, '../../../node_modules/@xterm/xterm/lib/xterm.js')), 'xterm.js is served from node_modules')
})

test('GET /api/containers lists the running containers', async () => {
  const r = await get('/api/containers', bearer())
  assert.equal(r.status, 200)
  const list = await r.json() as Array<{ id: string, name: string, image: string, state: string }>
  assert.deepEqual(list.map((c) => [c.id, c.name, c.state]), [[t.container, 'c1', 'running']])
  assert.equal(list[0].image, 'localhost/busybox:latest')
})

test('POST /api/containers/{ref}/exec: a tty sh at the given size; errors are JSON with Docker\'s statuses', async () => {
  const id = await createSession()
  const s = await t.engine.getExec(id)
  assert.deepEqual([s.config.command, s.config.tty, s.config.attachStdin, s.config.consoleSize], [['sh'], true, true, [24, 80]])
  await t.engine.removeExec(id, true)
  const missing = await fetch(`${base}/api/containers/nope/exec`, { method: 'POST', headers: { ...bearer(), 'Content-Type': 'application/json' }, body: '{}' })
  assert.equal(missing.status, 404)
  const bad = await fetch(`${base}/api/containers/c1/exec`, { method: 'POST', headers: { ...bearer(), 'Content-Type': 'application/json' }, body: '{"rows": -1, "cols": 80}' })
  assert.equal(bad.status, 400)
  const form = await fetch(`${base}/api/containers/c1/exec`, { method: 'POST', headers: { ...bearer(), 'Content-Type': 'text/plain' }, body: '{}' })
  assert.equal(form.status, 400, 'a cross-site form cannot create sessions')
})

test('a terminal over the console\'s WebSocket (cookie auth): type, read, exit; audited as web:127.0.0.1', async () => {
  const id = await createSession()
  const r = await runWs(`${base.replace('http', 'ws')}/conex/v1/exec/${id}/attach`, {
    headers: cookie(),
    onOpen: (w) => { w.send(frame(0, 'echo hello-$((40+2))\r')) },
    onMessage: (w, run) => { if (/hello-42\r\n/.test(text(run, 1))) w.send(frame(0, 'exit 7\r')) },
  })
  assert.match(text(r, 1), /hello-42\r\n/)
  assert.equal(r.status?.reason, 'NonZeroExitCode')
  assert.deepEqual(r.status?.details, { causes: [{ reason: 'ExitCode', message: '7' }] })
  const requesters = new Map<string, string>()
  await t.engine.events({}, (e) => { if (e.id === id) requesters.set(e.action, e.attributes.requester ?? '') })
  assert.equal(requesters.get('exec_create'), 'web:127.0.0.1')
  assert.equal(requesters.get('exec_start'), 'web:127.0.0.1')
})

test('the console refuses cross-origin WebSockets (403) and ?record (400)', async () => {
  const id = await createSession()
  const ws = `${base.replace('http', 'ws')}/conex/v1/exec/${id}/attach`
  assert.equal((await runWs(ws, { headers: { ...cookie(), Origin: 'http://evil.example' } })).httpStatus, 403)
  assert.equal((await runWs(`${ws}?record=/tmp/x.cast`, { headers: cookie() })).httpStatus, 400)
  await t.engine.removeExec(id, true)
})

test('closing the tab ends its shell: the session is stopped, not left detached', async () => {
  const id = await createSession()
  await runWs(`${base.replace('http', 'ws')}/conex/v1/exec/${id}/attach`, {
    headers: bearer(),
    onOpen: (w) => { w.send(frame(0, 'echo ready-$((1+1))\r')) },
    onMessage: (w, run) => { if (text(run, 1).includes('ready-2')) w.terminate() },
  })
  const deadline = Date.now() + 10_000
  while ((await t.engine.getExec(id)).state === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  assert.equal((await t.engine.getExec(id)).state, 'stopped')
})
