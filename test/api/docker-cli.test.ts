// The docker CLI against `conex system service`: run -d, exec in all its forms (plain, exit codes, -i with 20 MiB
// checked by sha256, -it under a real pty with the caller's size, -d, -e/-w/-u), ps, inspect, logs, import, load, rm.
// Exact bytes and exit codes, as a script relying on `docker exec` would see them.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { runInPty } from '../helpers'
import { startApi, waitFor, DOCKER_BIN, type Api } from './lib'

const skip = DOCKER_BIN === '' ? 'the docker CLI is not installed' : false
let api: Api
let work: string

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

async function ok (args: string[], input?: Buffer | string): Promise<string> {
  const r = await api.docker(args, { input })
  assert.equal(r.code, 0, `docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.out
}

before(async () => {
  if (skip !== false) return
  api = await startApi('docker-cli')
  work = join(api.store.root, '..', 'work')
  const rootfs = join(work, 'rootfs')
  mkdirSync(join(rootfs, 'bin'), { recursive: true })
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'))
  for (const applet of ['sh', 'cat', 'echo']) symlinkSync('busybox', join(rootfs, 'bin', applet))
  execFileSync('tar', ['-C', rootfs, '-cf', join(work, 'rootfs.tar'), '.'])
  const id = (await ok(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '1000'])).trim()
  assert.match(id, /^[0-9a-f]{64}$/)
})
after(async () => { if (skip === false) await api.stop() })

test('docker exec prints the exact bytes of stdout and stderr, separately', { skip }, async () => {
  const r = await api.docker(['exec', 'c1', 'sh', '-c', 'printf "out\\n"; printf "err\\n" >&2; printf "no newline"'])
  assert.equal(r.code, 0)
  assert.equal(r.out, 'out\nno newline')
  assert.equal(r.stderr, 'err\n')
})

test('docker exec exits with the command\'s code: 42, 127 for a missing command, 126 for a directory', { skip }, async () => {
  assert.equal((await api.docker(['exec', 'c1', 'sh', '-c', 'exit 42'])).code, 42)
  const missing = await api.docker(['exec', 'c1', 'no-such-command'])
  assert.equal(missing.code, 127)
  assert.match(missing.stderr, /no-such-command.*(not found|no such file)/i)
  assert.equal((await api.docker(['exec', 'c1', '/etc'])).code, 126)
})

test('docker exec -i streams 20 MiB of stdin through intact (sha256), and closes stdin at EOF', { skip }, async () => {
  const input = randomBytes(20 * 1024 * 1024)
  const r = await api.docker(['exec', '-i', 'c1', 'sha256sum'], { input, timeoutMs: 180_000 })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.out, `${sha(input)}  -\n`)
  assert.equal(await ok(['exec', '-i', 'c1', 'wc', '-c'], 'four'), '4\n')
})

test('docker exec -it runs under a tty of the caller\'s size, with TERM set; without -t there is no TERM', { skip }, async () => {
  const env = ['env', `DOCKER_HOST=${api.host}`, `DOCKER_CONFIG=${join(work, 'dockercfg')}`]
  // The sleep keeps the session alive for the CLI's resize after the start (it warns when all its tries fail).
  const size = await runInPty([...env, DOCKER_BIN, 'exec', '-it', 'c1', 'sh', '-c', 'stty size; sleep 1'], { rows: 33, cols: 101 })
  assert.equal(size.code, 0, size.out)
  assert.equal(size.out, '33 101\r\n')
  const term = await runInPty([...env, DOCKER_BIN, 'exec', '-it', 'c1', 'sh', '-c', 'echo $TERM; tty; sleep 1'], { rows: 24, cols: 80 })
  assert.match(term.out, /^xterm\r\n\/dev\/pts\/\d+\r\n$/)
  assert.equal(await ok(['exec', 'c1', 'sh', '-c', 'echo "[$TERM]"']), '[]\n')
  // Interactive: what is typed reaches the shell, and its exit code comes back.
  const shell = await runInPty([...env, DOCKER_BIN, 'exec', '-it', 'c1', 'sh'], { steps: [{ wait: '# ' }, { send: 'echo typed-$((6*7))\r' }, { wait: 'typed-42' }, { send: 'exit 7\r' }] })
  assert.equal(shell.code, 7, shell.out)
  assert.match(shell.out, /typed-42/)
})

test('docker exec -d returns at once and the command runs on', { skip }, async () => {
  const r = await api.docker(['exec', '-d', 'c1', 'sh', '-c', 'sleep 0.3; echo done > /tmp/detached'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.out, '')
  const got = await waitFor('the detached command', async () => {
    const c = await api.docker(['exec', 'c1', 'cat', '/tmp/detached'])
    return c.code === 0 ? c.out : undefined
  })
  assert.equal(got, 'done\n')
})

test('docker exec into a container that does not exist: dockerd\'s words, exit 1', { skip }, async () => {
  const r = await api.docker(['exec', 'nosuch', 'true'])
  assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n')
  assert.equal(r.out, '')
  assert.equal(r.code, 1)
})

test('docker exec -e, -w and -u reach the process', { skip }, async () => {
  assert.equal(await ok(['exec', '-e', 'FOO=bar baz', '-e', 'EMPTY=', '-w', '/tmp', '-u', '1000:1000', 'c1', 'sh', '-c', 'echo "$FOO|$EMPTY|$(pwd)|$(id -u):$(id -g)"']), 'bar baz||/tmp|1000:1000\n')
  assert.equal(await ok(['exec', '-u', 'nobody', 'c1', 'id', '-un']), 'nobody\n')
  // `-e NAME` with NAME unset where the CLI runs is sent bare, and means "unset" (dockerd's rule): HOSTNAME goes too.
  const bare = await api.docker(['exec', '-e', 'CONEX_TEST_NOT_SET', '-e', 'HOSTNAME', 'c1', 'sh', '-c', 'env | grep "^HOSTNAME=" || echo no-HOSTNAME; echo "[${CONEX_TEST_NOT_SET-unset}]"'], { env: { HOSTNAME: undefined, CONEX_TEST_NOT_SET: undefined } })
  assert.equal(bare.stderr, '')
  assert.equal(bare.out, 'no-HOSTNAME\n[unset]\n')
  assert.equal(bare.code, 0)
})

test('docker ps, inspect and logs show the container as Docker shapes it', { skip }, async () => {
  const ps = await ok(['ps', '--format', '{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}'])
  assert.match(ps, /^c1\|localhost\/busybox:latest\|"sleep 1000"\|Up /m)
  assert.equal(await ok(['inspect', '-f', '{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Cmd}} {{.Path}}', 'c1']), '/c1 running true [sleep 1000] sleep\n')
  assert.match(await ok(['ps', '-a', '--filter', 'status=running', '--filter', 'name=c1', '-q']), /^[0-9a-f]{12}\n$/)
  const missing = await api.docker(['inspect', 'nope'])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /no such (container|object)/i)
  await ok(['run', '--name', 'logger', 'busybox', 'sh', '-c', 'echo to-out; echo to-err >&2'])
  const logs = await api.docker(['logs', 'logger'])
  assert.equal(logs.out, 'to-out\n')
  assert.equal(logs.stderr, 'to-err\n')
  assert.match(await ok(['logs', '-t', '--tail', '1', 'logger']), /^$|^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z to-(out|err)\n$/)
})

test('docker run without -d: output, then the exit code; --rm removes the container', { skip }, async () => {
  const r = await api.docker(['run', '--rm', '--name', 'once', 'busybox', 'sh', '-c', 'echo hello from run; exit 3'])
  assert.equal(r.code, 3, r.stderr)
  assert.equal(r.out, 'hello from run\n')
  await waitFor('the --rm container to go', async () => (await api.docker(['inspect', 'once'])).code !== 0 ? true : undefined)
  assert.equal(await ok(['run', '-i', '--rm', 'busybox', 'cat'], 'through run -i\n'), 'through run -i\n')
  // -it: HostConfig.ConsoleSize from create is the size the process starts with. The sleep keeps the container
  // running for the CLI's own resize after the start (which, as with dockerd, fails once it has exited).
  const env = ['env', `DOCKER_HOST=${api.host}`, `DOCKER_CONFIG=${join(work, 'dockercfg')}`]
  const tty = await runInPty([...env, DOCKER_BIN, 'run', '-it', '--rm', 'busybox', 'sh', '-c', 'stty size; sleep 1'], { rows: 17, cols: 73 })
  assert.equal(tty.out, '17 73\r\n')
  assert.equal(tty.code, 0)
})

test('docker pause, unpause, top, restart, kill, stop, start and wait', { skip }, async () => {
  await ok(['run', '-d', '--name', 'life', 'busybox', 'sleep', '1000'])
  await ok(['pause', 'life'])
  assert.match(await ok(['ps', '--filter', 'name=life', '--format', '{{.Status}}']), /\(Paused\)$/m)
  // dockerd's words (the podman words of the engine stay under /libpod and in conex's CLI).
  const paused = await api.docker(['exec', 'life', 'true'])
  assert.equal(paused.code, 1)
  assert.equal(paused.stderr, 'Error response from daemon: Container life is paused, unpause the container before exec\n')
  await ok(['unpause', 'life'])
  // ps -ef's columns, as dockerd's: the host's user name, the start time (HH:MM today), no tty, CPU time.
  assert.match(await ok(['top', 'life']), /^UID +PID +PPID +C +STIME +TTY +TIME +CMD\nroot +\d+ +\d+ +\d+ +(\d\d:\d\d|[A-Z][a-z]{2}\d\d) +\? +\d\d:\d\d:\d\d +sleep 1000\n$/)
  await ok(['restart', '-t', '0', 'life'])
  assert.equal(await ok(['inspect', '-f', '{{.State.Running}} {{.RestartCount}}', 'life']), 'true 1\n')
  await ok(['kill', 'life'])
  assert.equal(await ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'life']), 'exited 137\n')
  const stopped = await api.docker(['exec', 'life', 'true'])
  assert.equal(stopped.code, 1)
  assert.match(stopped.stderr, /^Error response from daemon: Container [0-9a-f]{64} is not running\n$/)
  assert.equal(await ok(['stop', 'life']), 'life\n')
  await ok(['start', 'life'])
  const wait = api.docker(['wait', 'life'])
  await ok(['stop', '-t', '0', 'life'])
  assert.equal((await wait).out, '137\n')
  assert.equal((await api.docker(['kill', 'life'])).code, 1)
})

test('docker tag and rmi: Docker Hub names (docker.io/library/...) map to conex\'s local names', { skip }, async () => {
  await ok(['tag', 'busybox', 'mybox:v2'])
  assert.match(await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^localhost\/mybox:v2$/m)
  assert.equal(await ok(['run', '--rm', 'docker.io/library/mybox:v2', 'echo', 'tagged']), 'tagged\n')
  assert.equal(await ok(['rmi', 'mybox:v2']), 'Untagged: localhost/mybox:v2\n')
  assert.equal((await api.docker(['rmi', 'mybox:v2'])).code, 1)
})

test('docker import of a rootfs tarball names the image; it runs', { skip }, async () => {
  const out = await ok(['import', join(work, 'rootfs.tar'), 'mini:1'])
  assert.match(out, /^sha256:[0-9a-f]{64}\n$/)
  assert.equal(await ok(['run', '--rm', 'mini:1', 'sh', '-c', 'echo from-import']), 'from-import\n')
  assert.match(await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /mini:1/)
})

test('docker load of a docker-archive names the image by its RepoTags', { skip }, async () => {
  const dir = join(work, 'docker-archive')
  mkdirSync(join(dir, 'layer0'), { recursive: true })
  const layer = readFileSync(join(work, 'rootfs.tar'))
  writeFileSync(join(dir, 'layer0', 'layer.tar'), layer)
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sh', '-c', 'echo from-load'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } }))
  writeFileSync(join(dir, `${sha(config)}.json`), config)
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['loaded:2'], Layers: ['layer0/layer.tar'] }]))
  execFileSync('tar', ['-C', dir, '-cf', join(work, 'archive.tar'), '.'])
  assert.equal(await ok(['load', '-i', join(work, 'archive.tar')]), 'Loaded image: localhost/loaded:2\n')
  assert.equal(await ok(['run', '--rm', 'loaded:2']), 'from-load\n')
})

test('docker rm -f removes a running container; a second rm is "no such container"', { skip }, async () => {
  await ok(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '1000'])
  assert.equal(await ok(['rm', '-f', 'victim']), 'victim\n')
  const again = await api.docker(['rm', 'victim'])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /no such container/i)
  assert.doesNotMatch(await ok(['ps', '-a', '--format', '{{.Names}}']), /victim/)
})
