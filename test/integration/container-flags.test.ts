// run/create flags as the contained process sees them: environment, user and groups, working directory, bind
// mounts, umask, limits, namespaces, capabilities. Each check runs a real container and compares exact output.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { makeStore, type Store } from '../helpers'

let s: Store
let host: string

before(() => {
  s = makeStore('flags')
  host = join(dirname(s.root), 'host')
  mkdirSync(join(host, 'vol'), { recursive: true })
  writeFileSync(join(host, 'vol', 'f'), 'hostfile\n')
  writeFileSync(join(host, 'env'), 'A=1\n# a comment\n\nB=two words\nC=from-file\n')
})
after(async () => { await s.cleanup() })

// `conex run --rm <args>`; asserts the exit code and returns stdout.
async function run (args: string[], code = 0, env?: NodeJS.ProcessEnv): Promise<{ out: string, stderr: string }> {
  const r = await s.conex(['run', '--rm', ...args], env !== undefined ? { env: { ...process.env, ...env } } : undefined)
  assert.equal(r.code, code, `conex run --rm ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r
}

// The engine's (and so this process's) hard limit for open files.
const ownHardNofile = (): string => /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 'unlimited'

test('-e, -e NAME (from the host) and --env-file, later entries winning', async () => {
  const r = await run(['-e', 'X=y', '-e', 'FOO', '-e', 'UNSET_ON_HOST_XYZ', '--env-file', join(host, 'env'), '-e', 'C=from-flag', 'busybox', 'sh', '-c', 'echo "$X|$FOO|$A|$B|$C|${UNSET_ON_HOST_XYZ-unset}|$PATH"'], 0, { FOO: 'bar' })
  assert.equal(r.out, 'y|bar|1|two words|from-flag|unset|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n')
  const bad = await s.conex(['run', '--rm', '--env-file', join(host, 'missing'), 'busybox', 'true'])
  assert.equal(bad.code, 125)
  assert.equal(bad.stderr, `Error: reading env file ${join(host, 'missing')}: no such file or directory\n`)
})

test('-u takes a uid, uid:gid, or names resolved in the container\'s /etc files', async () => {
  assert.equal((await run(['-u', '1000', 'busybox', 'id'])).out, 'uid=1000 gid=0(root)\n')
  assert.equal((await run(['-u', '1000:1001', 'busybox', 'id'])).out, 'uid=1000 gid=1001\n')
  assert.equal((await run(['-u', 'nobody:nogroup', 'busybox', 'id'])).out, 'uid=65534(nobody) gid=65533(nogroup)\n')
  assert.equal((await run(['-u', 'daemon', 'busybox', 'id'])).out, 'uid=1(daemon) gid=1(daemon) groups=4(adm)\n')
  const r = await run(['-u', 'nosuch', 'busybox', 'id'], 125)
  assert.equal(r.stderr, 'Error: unable to find user nosuch: no matching entries in passwd file\n')
})

test('--group-add adds supplementary groups by number or name', async () => {
  assert.equal((await run(['--group-add', '1234', '--group-add', 'wheel', 'busybox', 'id', '-G'])).out, '0 10 1234\n')
})

test('-w sets the working directory, creating it when missing; a relative one is refused before the runtime runs', async () => {
  assert.equal((await run(['-w', '/tmp', 'busybox', 'pwd'])).out, '/tmp\n')
  assert.equal((await run(['-w', '/new/dir', 'busybox', 'pwd'])).out, '/new/dir\n')
  const rel = await run(['-w', 'relative', 'busybox', 'pwd'], 125)
  assert.equal(rel.stderr, 'Error: the working directory \'relative\' is invalid, it needs to be an absolute path\n')
})

test('-v HOST:CTR binds read-write; :ro refuses writes', async () => {
  const vol = join(host, 'vol')
  assert.equal((await run(['-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'cat /data/f; echo w > /data/g'])).out, 'hostfile\n')
  assert.equal(readFileSync(join(vol, 'g'), 'utf8'), 'w\n')
  const ro = await run(['-v', `${vol}:/data:ro`, 'busybox', 'sh', '-c', 'cat /data/f; echo w > /data/h'], 1)
  assert.equal(ro.out, 'hostfile\n')
  assert.equal(ro.stderr, 'sh: can\'t create /data/h: Read-only file system\n')
  assert.equal(existsSync(join(vol, 'h')), false)
  const rel = await s.conex(['run', '--rm', '-v', 'relative:/data', 'busybox', 'true'])
  assert.equal(rel.code, 125)
  assert.equal(rel.stderr, 'Error: invalid volume "relative:/data": the host path must be an existing absolute path\n')
})

test('--umask sets the mode of new files (default 0022)', async () => {
  const script = 'touch /tmp/f; stat -c %a /tmp/f; umask'
  assert.equal((await run(['busybox', 'sh', '-c', script])).out, '644\n0022\n')
  assert.equal((await run(['--umask', '0077', 'busybox', 'sh', '-c', script])).out, '600\n0077\n')
})

test('--stop-timeout is the default wait of stop before SIGKILL', async () => {
  const d = await s.conex(['run', '-d', '--stop-timeout', '1', '--name', 'st', 'busybox', 'sleep', '1000'])
  assert.equal(d.code, 0, d.stderr)
  assert.equal((await s.conex(['inspect', '--format', '{{.Config.StopTimeout}}', 'st'])).out, '1\n')
  const t0 = Date.now()
  assert.equal((await s.conex(['stop', 'st'])).code, 0)
  const took = Date.now() - t0
  assert.ok(took >= 1000 && took < 8000, `stop took ${took} ms`)
  assert.equal((await s.conex(['inspect', '--format', '{{.State.ExitCode}}', 'st'])).out, '137\n')
  assert.equal((await s.conex(['rm', 'st'])).code, 0)
})

test('--ulimit sets soft and hard limits; one above the engine\'s hard limit is refused before anything is created', async () => {
  assert.equal((await run(['--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn'])).out, '1024\n2048\n')
  const hard = ownHardNofile()
  // The defaults (podman's nofile 1048576) are clamped to the engine's hard limit, or runc could not start at all.
  assert.equal((await run(['busybox', 'sh', '-c', 'ulimit -Hn'])).out, `${hard === 'unlimited' ? 1048576 : Math.min(1048576, Number(hard))}\n`)
  if (hard === 'unlimited') return
  const over = Number(hard) + 1
  const r = await s.conex(['run', '--ulimit', `nofile=${over}:${over}`, 'busybox', 'true'])
  assert.equal(r.code, 125)
  assert.equal(r.stderr, `Error: --ulimit nofile=${over}:${over}: the hard limit is above this engine's own (${hard})\n`)
  assert.equal((await s.conex(['ps', '-a', '-q'])).out, '')
  const bad = await s.conex(['run', '--rm', '--ulimit', 'nofile=2048:1024', 'busybox', 'true'])
  assert.equal(bad.stderr, 'Error: invalid ulimit "nofile=2048:1024": soft limit above hard limit\n')
})

test('--network none has only lo; --network host sees the host\'s interfaces', async () => {
  assert.equal((await run(['busybox', 'ls', '/sys/class/net'])).out, 'lo\n')
  assert.equal((await run(['--network', 'none', 'busybox', 'ip', '-o', 'link'])).out.split('\n').filter((l) => l !== '').map((l) => l.split(':')[1].trim()).join(','), 'lo')
  const names = readdirSync('/sys/class/net').sort()
  assert.equal((await run(['--network', 'host', 'busybox', 'ls', '/sys/class/net'])).out, names.map((n) => n + '\n').join(''))
  const r = await s.conex(['run', '--rm', '--network', 'bridge', 'busybox', 'true'])
  assert.equal(r.code, 125)
  assert.equal(r.stderr, 'Error: network "bridge" is not supported: use none or host\n')
})

test('--entrypoint replaces the image\'s, as a word or a JSON array; --hostname; the default hostname is the short id', async () => {
  assert.equal((await run(['--entrypoint', 'echo', 'busybox', 'hello'])).out, 'hello\n')
  assert.equal((await run(['--entrypoint', '["sh","-c"]', 'busybox', 'echo ep'])).out, 'ep\n')
  assert.equal((await run(['--hostname', 'myhost', 'busybox', 'hostname'])).out, 'myhost\n')
  const d = await s.conex(['run', '-d', 'busybox', 'hostname'])
  const id = d.out.trim()
  assert.equal((await s.conex(['wait', id])).out, '0\n')
  assert.equal((await s.conex(['logs', id])).out, id.slice(0, 12) + '\n')
  assert.equal((await s.conex(['rm', id])).code, 0)
})

test('/etc/hostname holds the container\'s hostname and /etc/hosts is the engine\'s (Docker\'s), not the image\'s', async () => {
  assert.equal((await run(['--hostname', 'myhost', 'busybox', 'cat', '/etc/hostname'])).out, 'myhost\n')
  assert.equal((await run(['busybox', 'cat', '/etc/hosts'])).out,
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n')
  // An exec sees the same files as the container's own processes.
  const d = await s.conex(['run', '-d', '--hostname', 'h2', 'busybox', 'sleep', '100'])
  const id = d.out.trim()
  assert.equal((await s.conex(['exec', id, 'sh', '-c', 'echo "$(hostname) $(cat /etc/hostname)"'])).out, 'h2 h2\n')
  assert.equal((await s.conex(['rm', '-f', '-t', '0', id])).code, 0)
})

test('--privileged gets every capability the engine holds; --cap-drop=ALL and non-root users get none', async () => {
  const bounding = /^CapBnd:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
  const mknod = 'grep CapEff /proc/self/status; mknod /tmp/x c 1 3 && echo made'
  assert.equal((await run(['--privileged', 'busybox', 'sh', '-c', mknod])).out, `CapEff:\t${bounding}\nmade\n`)
  const dropped = await run(['--cap-drop=ALL', 'busybox', 'sh', '-c', mknod], 1)
  assert.equal(dropped.out, 'CapEff:\t0000000000000000\n')
  assert.equal(dropped.stderr, 'mknod: /tmp/x: Operation not permitted\n')
  const user = await run(['-u', '1000', 'busybox', 'sh', '-c', mknod], 1)
  assert.equal(user.out, 'CapEff:\t0000000000000000\n')
  assert.equal(user.stderr, 'mknod: /tmp/x: Operation not permitted\n')
  // podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP.
  assert.equal((await run(['busybox', 'grep', 'CapEff', '/proc/self/status'])).out, 'CapEff:\t00000000800405fb\n')
})

test('-q is accepted and prints nothing of its own', async () => {
  const r = await run(['-q', 'busybox', 'echo', 'q'])
  assert.equal(r.out, 'q\n')
  assert.equal(r.stderr, '')
})
