// Security: who may reach the API (socket 0660 root-owned, an optional group; TCP only with mutual TLS unless
// --insecure-tcp), what an image archive may do (nothing outside its layer, no special files, bounded size), what an
// exec may do (its user, groups, capabilities, no_new_privs, the seccomp profile), that no command line goes
// through a shell, and that env values never reach a log or an event.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { join, resolve } from 'node:path'
import { execFileSync } from 'node:child_process'
import { makeStore, runProgram, type Store } from '../helpers'
import { makeTar, tarHeader } from '../fixtures/make-tar'
import { apiExec, sleep, startService } from './lib'

const SRC = resolve(__dirname, '../../../src')

test('the API socket is 0660 and root-owned; --group grants one group', { timeout: 120_000 }, async () => {
  const store = makeStore('sec-sock')
  try {
    const plain = await startService(store)
    let st = statSync(plain.sock)
    assert.ok(st.isSocket())
    assert.equal(st.mode & 0o777, 0o660, `mode ${(st.mode & 0o777).toString(8)}`)
    assert.deepEqual([st.uid, st.gid], [0, 0])
    await plain.stop()
    assert.ok(!existsSync(plain.sock), 'the socket is removed when the service stops')
    const grouped = await startService(store, { args: ['--group', 'adm'] })
    st = statSync(grouped.sock)
    assert.equal(st.mode & 0o777, 0o660)
    assert.deepEqual([st.uid, st.gid], [0, 4], 'group adm (gid 4) owns the socket')
    await grouped.stop()
    const bad = await runProgram(process.env.CONEX_TEST_BIN ?? '', [...store.flags, 'system', 'service', '--time', '1', '--group', 'no-such-group-xyz', `unix://${store.runroot}/../g.sock`], { timeoutMs: 30_000 })
    assert.equal(bad.code, 125, bad.stderr)
    assert.match(bad.stderr, /unknown group/)
  } finally { await store.cleanup() }
})

// A CA, a server certificate for 127.0.0.1, a client certificate it signed, and one from another CA.
function makeCerts (dir: string): void {
  const ssl = (args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }) }
  for (const ca of ['ca', 'rogue-ca']) {
    ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${ca}`, '-keyout', `${ca}.key`, '-out', `${ca}.pem`])
  }
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n')
  for (const [name, ca, ext] of [['server', 'ca', 'server.ext'], ['client', 'ca', 'client.ext'], ['rogue', 'rogue-ca', 'client.ext']]) {
    ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`])
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-extfile', ext, '-out', `${name}.pem`])
  }
}

function httpsPing (port: number, dir: string, client?: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path: '/_ping', method: 'GET', ca: readFileSync(join(dir, 'ca.pem')), agent: false,
      ...(client !== undefined ? { cert: readFileSync(join(dir, `${client}.pem`)), key: readFileSync(join(dir, `${client}.key`)) } : {}),
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)) })
    req.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message))
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
    req.end()
  })
}

test('TCP: refused without TLS unless --insecure-tcp; with TLS only clients with a certificate from the CA', { timeout: 120_000 }, async () => {
  const store = makeStore('sec-tcp')
  const dir = mkdtempSync('/tmp/conex-certs-')
  const port = 20000 + (process.pid % 20000)
  try {
    const plain = await runProgram(process.env.CONEX_TEST_BIN ?? '', [...store.flags, 'system', 'service', '--time', '1', `tcp://127.0.0.1:${port}`], { timeoutMs: 30_000 })
    assert.equal(plain.code, 125)
    assert.match(plain.stderr, /^Error: refusing to serve the API on plain TCP/)
    const insecure = await startService(store, { uri: `tcp://127.0.0.1:${port}`, args: ['--insecure-tcp'] })
    assert.match(insecure.log(), /WITHOUT TLS/)
    await insecure.stop()
    makeCerts(dir)
    const tls = await startService(store, { uri: `tcp://127.0.0.1:${port + 1}`, args: ['--tlscacert', join(dir, 'ca.pem'), '--tlscert', join(dir, 'server.pem'), '--tlskey', join(dir, 'server.key')] })
    try {
      assert.equal(await httpsPing(port + 1, dir, 'client'), 200, 'a client with a certificate from the CA is served')
      const none = await httpsPing(port + 1, dir)
      assert.notEqual(none, 200, 'a client without a certificate is refused')
      const rogue = await httpsPing(port + 1, dir, 'rogue')
      assert.notEqual(rogue, 200, 'a client with a certificate from another CA is refused')
      // docker CLI with the same certificates, when installed.
      if (existsSync('/usr/local/bin/docker') || existsSync('/usr/bin/docker')) {
        // DOCKER_CERT_PATH holds ca.pem (already there), cert.pem and key.pem.
        writeFileSync(join(dir, 'cert.pem'), readFileSync(join(dir, 'client.pem')))
        writeFileSync(join(dir, 'key.pem'), readFileSync(join(dir, 'client.key')))
        const d = await runProgram('docker', ['--tlsverify', '-H', `tcp://127.0.0.1:${port + 1}`, 'version', '--format', '{{.Server.APIVersion}}'], { env: { ...process.env, DOCKER_CERT_PATH: dir }, timeoutMs: 30_000 })
        assert.equal(d.code, 0, d.stderr)
      }
    } finally { await tls.stop() }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await store.cleanup()
  }
})

// A docker-archive holding one image whose single layer is `layer`.
function dockerArchive (layer: Buffer, tag: string): Buffer {
  const diffId = createHash('sha256').update(layer).digest('hex')
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] } }))
  const cfgId = createHash('sha256').update(config).digest('hex')
  const manifest = JSON.stringify([{ Config: `${cfgId}.json`, RepoTags: [tag], Layers: [`${diffId}/layer.tar`] }])
  return makeTar([{ path: 'manifest.json', body: manifest }, { path: `${cfgId}.json`, body: config }, { path: `${diffId}/`, type: 'dir' }, { path: `${diffId}/layer.tar`, body: layer }])
}

test('import and load refuse traversal, absolute names, escaping links, special files and size bombs', { timeout: 180_000 }, async () => {
  const store = makeStore('sec-archive')
  const dir = mkdtempSync('/tmp/conex-evil-')
  const marker = `conex-evil-${process.pid}`
  try {
    const evil: Array<[string, Buffer]> = [
      ['traversal', makeTar([{ path: 'ok.txt', body: 'fine' }, { path: `../../../../tmp/${marker}`, body: 'escaped' }])],
      ['symlink escape', makeTar([{ path: 'link', type: 'symlink', linkname: '/tmp' }, { path: `link/${marker}`, body: 'escaped' }])],
      ['relative symlink escape', makeTar([{ path: 'a/', type: 'dir' }, { path: 'a/up', type: 'symlink', linkname: '../../../../../../tmp' }, { path: `a/up/${marker}`, body: 'escaped' }])],
      ['hardlink out', makeTar([{ path: 'shadow', type: 'hardlink', linkname: '/etc/shadow' }])],
      ['hardlink traversal', makeTar([{ path: 'shadow', type: 'hardlink', linkname: '../../../../etc/shadow' }])],
      ['char device', makeTar([{ path: 'mem', type: 'char', devmajor: 1, devminor: 1 }])],
      ['block device', makeTar([{ path: 'disk', type: 'block', devmajor: 8, devminor: 0 }])],
      ['size bomb', Buffer.concat([tarHeader({ name: 'huge', typeflag: '0', size: 9 * 1024 ** 3 }), Buffer.alloc(4096)])],
    ]
    for (const [what, layer] of evil) {
      const importFile = join(dir, `${what.replace(/ /g, '-')}.tar`)
      writeFileSync(importFile, layer)
      const loadFile = join(dir, `${what.replace(/ /g, '-')}-archive.tar`)
      writeFileSync(loadFile, dockerArchive(layer, `localhost/evil-${what.replace(/ /g, '-')}:latest`))
      for (const [how, args] of [['import', ['import', importFile, `localhost/evil-import-${what.replace(/ /g, '-')}`]], ['load', ['load', '-i', loadFile]]] as const) {
        const r = await store.conex([...args], { timeoutMs: 120_000 })
        assert.equal(r.code, 125, `${how} of a layer with ${what}: exit ${r.code}, ${r.stderr}${r.out}`)
        const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('Importing') && !l.startsWith('Loading') && !l.includes('\r'))
        assert.equal(lines.length, 1, `${how} (${what}): ${JSON.stringify(r.stderr)}`)
        assert.match(lines[0], /^Error: /)
        assert.ok(!existsSync(`/tmp/${marker}`), `${how} (${what}) wrote outside the store`)
      }
    }
    // Absolute member names are refused too (not made relative, as tar does): in the layer and in the outer archive.
    const abs = join(dir, 'absolute.tar')
    writeFileSync(abs, makeTar([{ path: './', type: 'dir' }, { path: `/tmp/${marker}`, body: 'escaped' }]))
    const absLoad = join(dir, 'absolute-archive.tar')
    writeFileSync(absLoad, dockerArchive(readFileSync(abs), 'localhost/evil-absolute:latest'))
    for (const args of [['import', abs, 'localhost/evil-absolute'], ['load', '-i', absLoad], ['load', '-i', abs]]) {
      const r = await store.conex(args)
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`^Error: archive (entry|member) "/tmp/${marker}" has an absolute path; (layer entries|archive members) must be relative\n$`, 'm'))
      assert.ok(!existsSync(`/tmp/${marker}`), `${args.join(' ')}: an absolute member name was written at its absolute path`)
    }
    assert.equal(execFileSync('find', [store.root, '-name', marker], { encoding: 'utf8' }), '', 'an absolute member was extracted into the store')
    const images = await store.conex(['images', '--format', '{{.Repository}}'])
    assert.ok(!images.out.includes('evil'), `a refused archive left an image: ${images.out}`)
    // Nothing staged was left behind either.
    const tmp = join(store.root, 'tmp')
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [])
  } finally {
    rmSync(`/tmp/${marker}`, { force: true })
    rmSync(dir, { recursive: true, force: true })
    await store.cleanup()
  }
})

// One exec's output and exit code.
async function ex (store: Store, args: string[]): Promise<{ code: number, out: string, err: string }> {
  const r = await store.conex(['exec', ...args])
  return { code: r.code, out: r.out, err: r.stderr }
}

const statusField = (status: string, field: string): string => new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? ''

test('exec honours user, groups and capabilities; --privileged gets the engine\'s bounding set', { timeout: 180_000 }, async () => {
  const store = makeStore('sec-caps')
  try {
    assert.equal((await store.conex(['run', '-d', '--name', 'nocaps', '--cap-drop=ALL', 'busybox', 'sleep', '100000'])).code, 0)
    assert.equal((await store.conex(['run', '-d', '--name', 'plain', 'busybox', 'sleep', '100000'])).code, 0)
    // An unprivileged user cannot make device nodes; neither can root without CAP_MKNOD.
    for (const [c, u] of [['nocaps', 'nobody'], ['nocaps', 'guest'], ['nocaps', 'root'], ['plain', 'nobody']]) {
      const r = await ex(store, ['-u', u, c, 'mknod', `/tmp/null-${u}`, 'c', '1', '3'])
      assert.notEqual(r.code, 0, `${u} in ${c} made a device node`)
      assert.match(r.err, /Operation not permitted|Permission denied/)
    }
    // The user and its groups are the image's.
    const id = await ex(store, ['-u', 'guest', 'plain', 'id'])
    assert.match(id.out, /uid=405\(guest\) gid=100\(users\)/)
    const nobody = await ex(store, ['-u', 'nobody', 'plain', 'cat', '/proc/self/status'])
    assert.equal(statusField(nobody.out, 'CapEff'), '0000000000000000', 'a non-root exec has no effective capabilities')
    const dropped = await ex(store, ['nocaps', 'cat', '/proc/self/status'])
    assert.equal(statusField(dropped.out, 'CapBnd'), '0000000000000000', '--cap-drop=ALL empties the bounding set of execs too')
    // --privileged: the engine's own bounding set (conex runs as root with this test's set), no more.
    const engineBnd = statusField(readFileSync('/proc/self/status', 'utf8'), 'CapBnd')
    const priv = await ex(store, ['--privileged', 'plain', 'cat', '/proc/self/status'])
    assert.equal(statusField(priv.out, 'CapBnd'), engineBnd)
    assert.equal(statusField(priv.out, 'CapEff'), engineBnd)
    const plainBnd = statusField((await ex(store, ['plain', 'cat', '/proc/self/status'])).out, 'CapBnd')
    assert.notEqual(plainBnd, engineBnd, 'a plain exec has the default (smaller) set')
  } finally { await store.cleanup() }
})

test('no_new_privs and the default seccomp profile hold in execs; seccomp=unconfined lifts it', { timeout: 180_000 }, async () => {
  const store = makeStore('sec-seccomp')
  try {
    assert.equal((await store.conex(['run', '-d', '--name', 'nnp', '--security-opt', 'no-new-privileges', 'busybox', 'sleep', '100000'])).code, 0)
    assert.equal((await store.conex(['run', '-d', '--name', 'dflt', 'busybox', 'sleep', '100000'])).code, 0)
    assert.equal((await store.conex(['run', '-d', '--name', 'unconf', '--security-opt', 'seccomp=unconfined', 'busybox', 'sleep', '100000'])).code, 0)
    const status = async (c: string, u = 'root'): Promise<string> => (await ex(store, ['-u', u, c, 'cat', '/proc/self/status'])).out
    assert.equal(statusField(await status('nnp'), 'NoNewPrivs'), '1')
    assert.equal(statusField(await status('nnp', 'nobody'), 'NoNewPrivs'), '1')
    assert.equal(statusField(await status('dflt'), 'NoNewPrivs'), '0')
    assert.equal(statusField(await status('dflt'), 'Seccomp'), '2', 'the default profile filters exec processes')
    assert.equal(statusField(await status('unconf'), 'Seccomp'), '0')
    // Refused system calls: EPERM, as Docker's profile does.
    for (const cmd of [['unshare', '-U', 'true'], ['mount', '-t', 'tmpfs', 'none', '/mnt']]) {
      const r = await ex(store, ['dflt', ...cmd])
      assert.notEqual(r.code, 0, `${cmd.join(' ')} ran under the default profile`)
      assert.match(r.err, /Operation not permitted|permission denied/i, `${cmd.join(' ')}: ${r.err}`)
    }
    // The same syscall is not filtered without the profile (mount then fails on capabilities, not seccomp: EPERM
    // comes either way, so check that unshare of a user namespace, which needs no capability, works).
    const u = await ex(store, ['unconf', 'unshare', '-U', 'true'])
    assert.equal(u.code, 0, `unshare -U under seccomp=unconfined: ${u.err}`)
  } finally { await store.cleanup() }
})

// Every .ts file under src/ (tests excluded).
function sources (dir = SRC): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...sources(p))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p)
  }
  return out
}

test('no command line is built through a shell: no shell: true, exec() or execSync() in src/', () => {
  const bad: string[] = []
  const rules: Array<[RegExp, string]> = [
    [/\bshell\s*:\s*(true|['"`])/, 'shell option'],
    [/\bexecSync\s*\(/, 'execSync('],
    [/import\s*\{[^}]*\bexec\b[^}]*\}\s*from\s*['"](node:)?child_process['"]/, 'exec imported from child_process'],
    [/require\(\s*['"](node:)?child_process['"]\s*\)\s*\.\s*exec\s*\(/, 'child_process.exec('],
    [/\b(child_process|cp|childProcess)\s*\.\s*exec\s*\(/, 'child_process.exec('],
    [/\bspawn(Sync)?\s*\(\s*['"`](\/bin\/)?(ba|da|z)?sh['"`]\s*,\s*\[\s*['"`]-c/, 'spawn of sh -c'],
  ]
  const files = sources()
  assert.ok(files.length > 50, `only ${files.length} source files found under ${SRC}`)
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
    for (const [re, what] of rules) {
      const m = re.exec(text)
      if (m !== null) bad.push(`${f.slice(SRC.length + 1)}:${text.slice(0, m.index).split('\n').length}: ${what}`)
    }
  }
  assert.deepEqual(bad, [])
})

test('env values never reach the service log, events or the CLI\'s stderr', { timeout: 180_000 }, async () => {
  const store = makeStore('sec-env')
  const secret = `hunter2xyz${process.pid}`
  // Debug logging too: it logs request lines, headers and bodies.
  const svc = await startService(store, { env: { ...process.env, CONEX_API_DEBUG: '1' } })
  try {
    assert.equal((await store.conex(['run', '-d', '--name', 'sec', '-e', `RUNSECRET=${secret}`, 'busybox', 'sleep', '100000'])).code, 0)
    const cli = await store.conex(['exec', '-e', `SECRET=${secret}`, 'sec', 'sh', '-c', 'echo ${#SECRET}'])
    assert.equal(cli.out, `${secret.length}\n`, cli.stderr)
    assert.ok(!cli.stderr.includes(secret))
    const viaApi = await apiExec(svc.sock, 'sec', { Cmd: ['sh', '-c', 'echo ${#SECRET}'], Env: [`SECRET=${secret}`] })
    assert.equal(viaApi.stdout.toString(), `${secret.length}\n`)
    const failing = await apiExec(svc.sock, 'sec', { Cmd: ['/no/such/cmd'], Env: [`SECRET=${secret}`] })
    assert.equal(failing.exitCode, 127)
    const bad = await store.conex(['exec', '-e', `BAD KEY=${secret}`, 'sec', 'true'])
    assert.equal(bad.code, 125)
    assert.ok(!bad.stderr.includes(secret), `an invalid env entry echoed its value: ${bad.stderr}`)
    await sleep(500)
    const events = await store.conex(['events', '--stream=false', '--format', 'json'])
    assert.equal(events.code, 0, events.stderr)
    assert.ok(events.out.includes('exec_create'), 'exec events were recorded')
    assert.ok(!events.out.includes(secret), 'a secret reached the events')
    const apiEvents = await (await import('./lib')).api(svc.sock, 'GET', `/v1.44/events?since=0&until=${Math.ceil(Date.now() / 1000) + 1}`)
    assert.ok(!apiEvents.body.includes(secret), 'a secret reached /events')
    assert.ok(svc.log().includes('/exec'), 'the debug log was on')
    assert.ok(!svc.log().includes(secret), `a secret reached the service log:\n${svc.log().split('\n').filter((l) => l.includes(secret)).slice(0, 3).join('\n')}`)
  } finally {
    await svc.stop()
    await store.cleanup()
  }
})
