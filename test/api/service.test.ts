// `conex system service` itself: the unix socket (mode 0660, owner root, --group, a stale socket replaced, removed
// on exit), --time (idle exit, but not with a request in flight), TCP (refused without TLS: exit 125; a loud
// warning with --insecure-tcp; with TLS only clients holding a certificate from the CA get in), and the system
// endpoints: _ping, version, info, events.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, statSync, readFileSync, mkdirSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { request as httpsRequest } from 'node:https'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { CONEX_BIN, makeStore, runProgram, type Store } from '../helpers'
import { startApi, callApi, waitFor, DOCKER_BIN, type Api } from './lib'

let api: Api
let store: Store

before(async () => {
  api = await startApi('service')
  store = makeStore('api-service-extra')
  const r = await api.store.conex(['run', '-d', '--name', 's1', 'busybox', 'sleep', '1000'])
  assert.equal(r.code, 0, r.stderr)
})
after(async () => { await api.stop(); await store.cleanup() })

// Runs the service with `args` until it exits (or `ms` pass, then SIGTERM); returns its exit code and stderr.
// `exits`: the service is expected to exit by itself after `during` (it is given 10 s before SIGTERM); otherwise it
// is stopped with SIGTERM as soon as `during` is done.
async function runService (args: string[], o: { until?: (stderr: string) => boolean, ms?: number, during?: () => Promise<void>, exits?: boolean } = {}): Promise<{ code: number | null, stderr: string }> {
  const proc = spawn(CONEX_BIN, [...store.flags, 'system', 'service', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  if (o.until !== undefined) {
    await Promise.race([waitFor(`service output (${args.join(' ')})`, () => o.until?.(stderr) === true ? true : undefined, o.ms ?? 20_000), exited])
    await o.during?.()
    if (o.exits === true) {
      const t = setTimeout(() => proc.kill('SIGTERM'), 10_000)
      await exited
      clearTimeout(t)
    } else proc.kill('SIGTERM')
  } else {
    const t = setTimeout(() => proc.kill('SIGTERM'), o.ms ?? 20_000)
    await exited
    clearTimeout(t)
  }
  return { code: await exited, stderr }
}

async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as AddressInfo).port
  await new Promise((resolve) => srv.close(resolve))
  return port
}

test('_ping: GET and HEAD, OK with the version headers; libpod ping carries Libpod-API-Version', async () => {
  for (const path of ['/_ping', '/v1.47/_ping', '/v1.24/_ping']) {
    const r = await api.call('GET', path)
    assert.equal(r.status, 200)
    assert.equal(r.text, 'OK')
    assert.equal(r.headers['api-version'], '1.47')
    assert.equal(r.headers['docker-experimental'], 'false')
    assert.equal(r.headers.ostype, 'linux')
  }
  const head = await api.call('HEAD', '/_ping')
  assert.equal(head.status, 200)
  assert.equal(head.text, '')
  assert.equal(head.headers['api-version'], '1.47')
  const lp = await api.call('GET', '/v4.3.1/libpod/_ping')
  assert.equal(lp.status, 200)
  assert.match(String(lp.headers['libpod-api-version']), /^4\.\d+\.\d+$/)
})

test('/version and /info have Docker\'s shape', async () => {
  const v = (await api.call('GET', '/v1.47/version')).json()
  assert.equal(v.ApiVersion, '1.47')
  assert.equal(v.MinAPIVersion, '1.24')
  assert.equal(v.Os, 'linux')
  assert.equal(v.Components[0].Name, 'Engine')
  assert.equal(v.Components[0].Details.ApiVersion, '1.47')
  const i = (await api.call('GET', '/info')).json()
  assert.equal(i.Containers, 1)
  assert.equal(i.ContainersRunning, 1)
  assert.equal(i.ContainersStopped, 0)
  assert.equal(i.Driver, 'overlay')
  assert.equal(i.OSType, 'linux')
  assert.equal(typeof i.NCPU, 'number')
  assert.equal(typeof i.MemTotal, 'number')
  assert.match(i.CgroupVersion, /^[12]$/)
  assert.ok(i.DefaultRuntime in i.Runtimes)
})

test('/events: exec_create, exec_start and exec_die as Docker names them, filtered and bounded by since/until', async () => {
  const since = Date.now() / 1000
  const ex = await api.call('POST', '/containers/s1/exec', { Cmd: ['sh', '-c', 'exit 4'], AttachStdout: true })
  assert.equal(ex.status, 201)
  const id = ex.json().Id as string
  assert.equal((await api.call('POST', `/exec/${id}/start`, { Detach: true })).status, 200)
  await waitFor('the exec to end', async () => (await api.call('GET', `/exec/${id}/json`)).json().Running === false ? true : undefined)
  const until = Date.now() / 1000 + 1
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], container: ['s1'] }))
  const r = await api.call('GET', `/events?since=${since.toFixed(3)}&until=${until.toFixed(3)}&filters=${filters}`)
  assert.equal(r.status, 200)
  const events = r.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).filter((e) => e.Actor.Attributes.execID === id)
  assert.deepEqual(events.map((e) => e.Action), ['exec_create: sh -c exit 4', 'exec_start: sh -c exit 4', 'exec_die'])
  const die = events[2]
  assert.equal(die.Type, 'container')
  assert.equal(die.status, 'exec_die')
  assert.equal(die.Actor.Attributes.exitCode, '4')
  assert.equal(die.Actor.Attributes.name, 's1')
  assert.equal(die.from, 'localhost/busybox:latest')
  assert.equal(typeof die.time, 'number')
  assert.match(r.text, /"timeNano":\d{19}\}/)
  const fuzzy = await api.call('GET', `/events?since=${since.toFixed(3)}&until=${until.toFixed(3)}&filters=${encodeURIComponent(JSON.stringify({ event: ['exec_start'] }))}`)
  assert.ok(fuzzy.text.trim().split('\n').every((l) => (JSON.parse(l).Action as string).startsWith('exec_start: ')))
})

test('the unix socket: mode 0660, owner root, --group sets its group; a stale socket is replaced; it goes on exit', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, async () => {
  const st = statSync(api.sock)
  assert.equal(st.mode & 0o777, 0o660)
  assert.equal(st.uid, 0)
  assert.equal(st.gid, 0)
  const dir = join(store.runroot, 'sockdir', 'nested')
  const sock = join(dir, 'grp.sock')
  mkdirSync(dir, { recursive: true })
  // A stale socket: bound, then its owner gone without unlinking it.
  execFileSync('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(sock)}); s.close()`])
  const gid = Number(readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('daemon:'))?.split(':')[2] ?? NaN)
  let seen: { mode: number, gid: number } | undefined
  const r = await runService(['--time', '0', '--group', 'daemon', `unix://${sock}`], {
    until: (e) => e.includes('listening on'),
    during: async () => {
      const s = statSync(sock)
      seen = { mode: s.mode & 0o777, gid: s.gid }
      assert.equal((await callApi(sock, 'GET', '/_ping')).text, 'OK')
    },
  })
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(seen, { mode: 0o660, gid })
  assert.equal(existsSync(sock), false, 'the socket is removed on exit')
})

test('a socket another service is listening on is not taken over (exit 125)', async () => {
  const r = await runService(['--time', '0', `unix://${api.sock}`])
  assert.equal(r.code, 125)
  assert.match(r.stderr, /already listening/)
  assert.equal((await api.call('GET', '/_ping')).status, 200)
})

test('--time N: the service exits after N idle seconds, but not while a request is in flight', async () => {
  const sock = join(store.runroot, 'idle.sock')
  const t0 = Date.now()
  let heldFor = 0
  const r = await runService(['--time', '1', `unix://${sock}`], {
    ms: 30_000,
    exits: true, // the socket goes a moment before the process: a SIGTERM then would race its own exit
    until: (e) => e.includes('listening on'),
    during: async () => {
      // An /events stream is a request in flight: hold it 2.5 s, then let go; the service goes 1 s later.
      const held = Date.now()
      await new Promise<void>((resolve) => {
        const req = httpRequest({ socketPath: sock, path: '/events', agent: false }, (res) => { res.resume(); setTimeout(() => { req.destroy(); resolve() }, 2500) })
        req.on('error', () => resolve())
        req.end()
      })
      heldFor = Date.now() - held
      await waitFor('the idle exit', () => existsSync(sock) ? undefined : true, 10_000)
    },
  })
  assert.ok(heldFor >= 2400, 'the service stayed while the request was in flight')
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /idle for 1s, exiting/)
  assert.ok(Date.now() - t0 >= 3000)
  assert.equal(existsSync(sock), false)
})

test('plain TCP is refused with exit 125 unless --insecure-tcp, which warns loudly', async () => {
  const port = await freePort()
  const refused = await runService(['--time', '0', `tcp://127.0.0.1:${port}`])
  assert.equal(refused.code, 125)
  assert.match(refused.stderr, /refusing to serve the API on plain TCP/)
  const insecure = await runService(['--time', '0', '--insecure-tcp', `tcp://127.0.0.1:${port}`], {
    until: (e) => e.includes('listening on'),
    during: async () => {
      const body = await new Promise<string>((resolve, reject) => {
        httpRequest({ host: '127.0.0.1', port, path: '/_ping', agent: false }, (res) => { let b = ''; res.on('data', (d) => { b += d }); res.on('end', () => resolve(b)) }).on('error', reject).end()
      })
      assert.equal(body, 'OK')
    },
  })
  assert.equal(insecure.code, 0)
  assert.match(insecure.stderr, /^WARNING: serving the API on tcp:\/\/127\.0\.0\.1:\d+ WITHOUT TLS/m)
  const partial = await runService(['--time', '0', '--tlscert', '/nonexistent', `tcp://127.0.0.1:${port}`])
  assert.equal(partial.code, 125)
  assert.match(partial.stderr, /TLS needs all of --tlscacert, --tlscert and --tlskey/)
})

test('TCP with TLS: a client with a certificate from the CA is served (docker --tlsverify too); one without is not', { skip: existsSync('/usr/bin/openssl') ? false : 'openssl is not installed' }, async () => {
  const dir = join(store.runroot, 'tls')
  mkdirSync(dir, { recursive: true })
  const ssl = (args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }) }
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=conex test CA'])
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']]) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`])
    execFileSync('sh', ['-c', `printf '%b' '${ext.replace(/\n/g, '\\n')}' > ${name}.ext`], { cwd: dir })
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`])
  }
  const f = (n: string): Buffer => readFileSync(join(dir, n))
  const port = await freePort()
  const get = (withCert: boolean): Promise<string> => new Promise((resolve, reject) => {
    httpsRequest({ host: '127.0.0.1', port, path: '/v1.47/_ping', agent: false, ca: f('ca.pem'), ...(withCert ? { cert: f('client.pem'), key: f('client-key.pem') } : {}) }, (res) => {
      let b = ''
      res.on('data', (d) => { b += d })
      res.on('end', () => resolve(`${res.statusCode ?? 0} ${b}`))
    }).on('error', reject).end()
  })
  const r = await runService(['--time', '0', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'server.pem'), '--tlskey', join(dir, 'server-key.pem'), `tcp://127.0.0.1:${port}`], {
    until: (e) => e.includes('listening on'),
    during: async () => {
      assert.equal(await get(true), '200 OK')
      await assert.rejects(get(false))
      if (DOCKER_BIN !== '') {
        const d = await runProgram(DOCKER_BIN, ['--tlsverify', '--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'client.pem'), '--tlskey', join(dir, 'client-key.pem'), '-H', `tcp://127.0.0.1:${port}`, 'version', '--format', '{{.Server.APIVersion}}'])
        assert.equal(d.out, '1.47\n', d.stderr)
      }
    },
  })
  assert.equal(r.code, 0, r.stderr)
  assert.doesNotMatch(r.stderr, /WARNING/)
})

test('wait?condition=removed gives the exit code also when the exit command removed the --rm container unseen', async () => {
  // docker run --rm got StatusCode 0 for `exit 3` under load: conmon's exit command recorded the exit and removed
  // the container between two looks of the service, whose last look said running. Made certain here: the service
  // is stopped (SIGSTOP) while it waits, and resumed once the container is gone.
  const c = await api.call('POST', '/v1.41/containers/create?name=rmrace', { Image: 'busybox', Cmd: ['sh', '-c', 'sleep 2; exit 3'], HostConfig: { AutoRemove: true } })
  assert.equal(c.status, 201, c.text)
  const id = c.json().Id as string
  assert.equal((await api.call('POST', `/v1.41/containers/${id}/start`)).status, 204)
  let body = ''
  let answered = (): void => {}
  const headers = new Promise<void>((resolve) => { answered = resolve })
  const done = new Promise<void>((resolve, reject) => {
    const req = httpRequest({ socketPath: api.sock, method: 'POST', path: `/v1.41/containers/${id}/wait?condition=removed` }, (res) => {
      answered() // dockerd and conex send the headers at once, before the wait ends
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', resolve)
    })
    req.on('error', reject)
    req.end()
  })
  await headers
  await new Promise((resolve) => setTimeout(resolve, 500)) // the handler has looked: running, watching the exit file
  api.proc.kill('SIGSTOP')
  try {
    await waitFor('the exit command to remove the container', async () => (await api.store.conex(['ps', '-a', '-q', '--no-trunc'])).out.includes(id) ? undefined : true)
  } finally { api.proc.kill('SIGCONT') }
  await done
  assert.equal(body, '{"StatusCode":3,"Error":null}\n')
})
