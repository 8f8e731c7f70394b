// Debian's podman (4.3) as a remote client of the service's libpod API: run -d, ps, exec (plain, exit codes, -i,
// -t under a real pty, -d), inspect, stop, rm -f. podman reads exec output from the raw connection after the HTTP
// head, so these also check that nothing of the stream ever rides along with the head.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, createHash } from 'node:crypto'
import { runInPty } from '../helpers'
import { startApi, waitFor, PODMAN_BIN, type Api } from './lib'

const skip = PODMAN_BIN === '' ? 'podman is not installed (apt-get install podman)' : false
let api: Api

async function ok (args: string[], input?: Buffer | string): Promise<string> {
  const r = await api.podman(args, { input })
  assert.equal(r.code, 0, `podman --remote ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.out
}

before(async () => {
  if (skip !== false) return
  api = await startApi('podman')
  assert.match(await ok(['run', '-d', '--name', 'pc', 'busybox', 'sleep', '1000']), /^[0-9a-f]{64}\n$/)
})
after(async () => { if (skip === false) await api.stop() })

test('podman --remote ps lists the container; --format shows its state', { skip }, async () => {
  // podman 4.3 prints the status text for .State.
  assert.match(await ok(['ps', '--format', '{{.Names}}|{{.State}}|{{.Image}}']), /^pc\|Up .*\|localhost\/busybox:latest$/m)
  assert.match(await ok(['ps', '-a', '-q', '--no-trunc']), /^[0-9a-f]{64}$/m)
})

test('podman --remote exec: exact output, the command\'s exit code, 127 for a missing command', { skip }, async () => {
  const r = await api.podman(['exec', 'pc', 'sh', '-c', 'printf "out\\n"; printf "err\\n" >&2; exit 3'])
  assert.equal(r.code, 3)
  assert.equal(r.out, 'out\n')
  assert.equal(r.stderr, 'err\n')
  assert.equal((await api.podman(['exec', 'pc', 'no-such-command'])).code, 127)
  const none = await api.podman(['exec', 'pc'])
  assert.equal(none.stderr, 'Error: must provide a non-empty command to start an exec session: invalid argument\n')
  assert.equal(none.code, 125)
  assert.equal(await ok(['exec', '-e', 'X=y', '-w', '/tmp', '-u', '1000', 'pc', 'sh', '-c', 'echo $X $(pwd) $(id -u)']), 'y /tmp 1000\n')
})

test('podman --remote exec -i: stdin through, closed at EOF', { skip }, async () => {
  const input = randomBytes(2 * 1024 * 1024)
  assert.equal(await ok(['exec', '-i', 'pc', 'sha256sum'], input), `${createHash('sha256').update(input).digest('hex')}  -\n`)
})

test('podman --remote exec -it runs under a tty of the caller\'s size', { skip }, async () => {
  const r = await runInPty([PODMAN_BIN, '--remote', '--url', api.host, 'exec', '-it', 'pc', 'sh', '-c', 'stty size; echo $TERM; sleep 1'], { rows: 27, cols: 93 })
  assert.equal(r.code, 0, r.out)
  assert.equal(r.out, '27 93\r\nxterm\r\n')
})

test('podman --remote exec -t with stdin not a terminal (CI): the tty session\'s raw bytes, no frame headers', { skip }, async () => {
  // podman sends Tty false in the start body then; its server frames by the session's own tty, and so does conex.
  const r = await api.podman(['exec', '-t', 'pc', 'sh', '-c', 'echo $TERM; echo to-err >&2; exit 2'])
  assert.equal(r.out, 'xterm\r\nto-err\r\n')
  assert.equal(r.stderr, '')
  assert.equal(r.code, 2)
})

test('podman --remote exec -d prints the session id; the command runs on', { skip }, async () => {
  assert.match(await ok(['exec', '-d', 'pc', 'sh', '-c', 'echo detached > /tmp/pd']), /^[0-9a-f]{64}\n$/)
  const got = await waitFor('the detached command', async () => { const r = await api.podman(['exec', 'pc', 'cat', '/tmp/pd']); return r.code === 0 ? r.out : undefined })
  assert.equal(got, 'detached\n')
})

test('podman --remote run (attached): output, exit code; logs; -it under a pty starts with the caller\'s size; events', { skip }, async () => {
  const r = await api.podman(['run', '--name', 'once', 'busybox', 'sh', '-c', 'echo p-out; echo p-err >&2; exit 3'])
  assert.equal(r.code, 3, r.stderr)
  assert.equal(r.out, 'p-out\n')
  assert.equal(r.stderr, 'p-err\n')
  const logs = await api.podman(['logs', 'once'])
  assert.equal(logs.out, 'p-out\n')
  assert.equal(logs.stderr, 'p-err\n')
  const last = await api.podman(['logs', '-t', '--tail', '1', 'once'])
  assert.match(last.out + last.stderr, /^\d{4}-\d\d-\d\dT[\d:.]+Z p-(out|err)\n$/)
  assert.equal(await ok(['run', '-i', '--rm', 'busybox', 'cat'], 'via run -i\n'), 'via run -i\n')
  const tty = await runInPty([PODMAN_BIN, '--remote', '--url', api.host, 'run', '-it', '--rm', 'busybox', 'sh', '-c', 'stty size; sleep 1'], { rows: 19, cols: 71 })
  assert.equal(tty.out, '19 71\r\n')
  assert.equal(tty.code, 0)
  const ev = await ok(['events', '--since', '5m', '--stream=false', '--filter', 'container=once'])
  assert.match(ev, /container create [0-9a-f]{64} \(image=localhost\/busybox:latest, name=once/)
  assert.match(ev, /container died [0-9a-f]{64} \(.*exitCode=3/)
  await ok(['rm', 'once'])
})

test('podman --remote inspect, stop and rm -f', { skip }, async () => {
  assert.equal(await ok(['inspect', '--format', '{{.Name}} {{.State.Running}}', 'pc']), 'pc true\n')
  await ok(['run', '-d', '--name', 'pc2', 'busybox', 'sleep', '1000'])
  assert.equal(await ok(['stop', '-t', '1', 'pc2']), 'pc2\n')
  // sleep as pid 1 ignores SIGTERM: the stop timeout ends in SIGKILL.
  assert.match(await ok(['ps', '-a', '--format', '{{.Names}} {{.State}}']), /^pc2 Exited \(137\) /m)
  assert.equal(await ok(['rm', '-f', 'pc2']), 'pc2\n')
  assert.equal(await ok(['rm', '-f', 'pc']), 'pc\n')
  assert.equal(await ok(['ps', '-a', '--format', '{{.Names}}']), '')
})

// podman --remote run --rm waits only after its attach ended, when the container may be gone already: the wait must
// still answer with the exit code (podman keeps codes of removed containers for a while; so does conex, 5 min).
test('libpod wait on a container that --rm removed answers with its exit code; an unknown one is 404', async () => {
  const a = api ?? await startApi('podman-wait')
  try {
    const r = await a.store.conex(['run', '-d', '--rm', '--name', 'gone', 'busybox', 'sh', '-c', 'exit 7'])
    assert.equal(r.code, 0, r.stderr)
    const id = r.out.trim()
    await waitFor('the --rm container to be removed', async () => (await a.store.conex(['inspect', id])).code !== 0 ? true : undefined)
    for (const ref of [id, 'gone']) {
      const w = await a.call('POST', `/v4.0.0/libpod/containers/${ref}/wait?condition=stopped`)
      assert.equal(w.status, 200, w.text)
      assert.equal(w.text.trim(), '7')
    }
    const missing = await a.call('POST', `/v4.0.0/libpod/containers/${'e'.repeat(64)}/wait`)
    assert.equal(missing.status, 404)
    assert.match(missing.json().message, /no container with name or ID/)
  } finally { if (a !== api) await a.stop() }
})
