// The container lifecycle through the real CLI, conmon and runc, checked as podman users see it: exact output bytes,
// exit codes, states in inspect, and nothing left behind (conmon, mounts, cgroups, bundles) once containers are gone.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { makeStore, conmonsFor, mountsUnder, runProgram, CONEX_BIN, type Store, type RunResult } from '../helpers'

let s: Store
const ids = new Set<string>()

before(() => { s = makeStore('lifecycle') })
after(async () => { await s.cleanup() })

// Runs conex and fails with its stderr when the exit code is not `code`.
async function ok (args: string[], code = 0, input?: string): Promise<RunResult> {
  const r = await s.conex(args, { input })
  assert.equal(r.code, code, `conex ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r
}

// `run -d`/`create`: the 64-hex id, remembered for the leftovers check at the end.
async function started (args: string[]): Promise<string> {
  const r = await ok(args)
  assert.match(r.out, /^[0-9a-f]{64}\n$/)
  const id = r.out.trim()
  ids.add(id)
  return id
}

const inspect = async (ref: string, fmt: string): Promise<string> => (await ok(['inspect', '--format', fmt, ref])).out

async function until (what: string, fn: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('run --rm prints exactly the output, exits with the command\'s code, and the container is gone', async () => {
  const r = await ok(['run', '--rm', 'busybox', 'sh', '-c', 'echo hi; exit 3'], 3)
  assert.equal(r.out, 'hi\n')
  assert.equal(r.stderr, '')
  assert.equal((await ok(['ps', '-a', '-q'])).out, '')
})

test('run -d, ps, inspect, stop -t 1, wait and rm behave as podman\'s', async () => {
  const id = await started(['run', '-d', '--name', 'web', 'busybox', 'sleep', '1000'])
  const table = (await ok(['ps'])).out.split('\n')
  assert.deepEqual(table[0].trim().split(/\s{2,}/), ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'])
  assert.equal(table.length, 3)
  assert.ok(table[1].startsWith(id.slice(0, 12) + '  '), table[1])
  assert.ok(table[1].includes('  localhost/busybox:latest  '), table[1])
  assert.ok(table[1].endsWith('  web'), table[1])
  assert.match(table[1], /\s{2}Up /)
  assert.equal((await ok(['ps', '--format', '{{.Names}}'])).out, 'web\n')
  assert.equal((await ok(['ps', '-a', '-q'])).out, id.slice(0, 12) + '\n')
  assert.equal(await inspect('web', '{{.State.Running}}'), 'true\n')
  assert.equal(await inspect('web', '{{len .ExecIDs}}'), '0\n')
  assert.equal(await inspect('web', '{{json .Config.Cmd}}'), '["sleep","1000"]\n')
  const doc = JSON.parse((await ok(['inspect', 'web'])).out) as Array<Record<string, any>>
  assert.equal(doc.length, 1)
  assert.equal(doc[0].Id, id)
  assert.equal(doc[0].Name, 'web')
  assert.equal(doc[0].State.Status, 'running')
  assert.ok(doc[0].State.Pid > 0)
  assert.ok((doc[0].Config.Env as string[]).includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'))
  assert.equal(doc[0].GraphDriver.Name, 'overlay')
  assert.deepEqual(doc[0].ExecIDs, [])
  // busybox sleep as PID 1 has no handler for SIGTERM, which PID 1 ignores: the kill comes after the timeout.
  const t0 = Date.now()
  assert.equal((await ok(['stop', '-t', '1', 'web'])).out, 'web\n')
  const took = Date.now() - t0
  assert.ok(took >= 1000 && took < 8000, `stop -t 1 took ${took} ms`)
  assert.equal(await inspect('web', '{{.State.Running}} {{.State.ExitCode}} {{.State.Status}}'), 'false 137 exited\n')
  assert.equal((await ok(['wait', 'web'])).out, '137\n')
  assert.equal((await ok(['ps', '-q'])).out, '')
  assert.equal((await ok(['rm', 'web'])).out, id + '\n')
  assert.equal((await ok(['ps', '-a', '-q'])).out, '')
})

test('logs into a reader that does not read yet: every byte arrives before conex exits', async () => {
  // The CLI ends with process.exit once its output is written; output still queued for a full pipe must not be lost.
  await started(['run', '-d', '--name', 'lbig', 'busybox', 'sh', '-c', 'yes 0123456789abcdef | head -n 200000'])
  assert.equal((await ok(['wait', 'lbig'])).out, '0\n')
  // A reader process that sleeps first: the pipe (64 KiB) fills and conex queues the rest until it reads.
  const reader = spawn('python3', ['-c', 'import hashlib, sys, time; time.sleep(1.5); d = sys.stdin.buffer.read(); print(len(d), hashlib.sha256(d).hexdigest())'], { stdio: ['pipe', 'pipe', 'inherit'] })
  let verdict = ''
  reader.stdout.on('data', (d: Buffer) => { verdict += d.toString() })
  const readerDone = new Promise((resolve) => reader.on('close', resolve))
  const r = await runProgram(CONEX_BIN, [...s.flags, 'logs', 'lbig'], { stdio: ['ignore', reader.stdin as unknown as number, 'pipe'] })
  reader.stdin.destroy()
  await readerDone
  assert.equal(r.code, 0, r.stderr)
  const want = Buffer.from('0123456789abcdef\n'.repeat(200000))
  assert.equal(verdict, `${want.length} ${createHash('sha256').update(want).digest('hex')}\n`)
  await ok(['rm', 'lbig'])
})

test('logs: stdout and stderr go to their own streams, --tail counts lines, -f ends with the container', async () => {
  await started(['run', '-d', '--name', 'lg', 'busybox', 'sh', '-c', 'echo a; echo b >&2'])
  assert.equal((await ok(['wait', 'lg'])).out, '0\n')
  const all = await ok(['logs', 'lg'])
  assert.equal(all.out, 'a\n')
  assert.equal(all.stderr, 'b\n')
  // conmon reads stdout and stderr from separate pipes, so their relative order in the log is not the process's.
  await started(['run', '-d', '--name', 'lt', 'busybox', 'sh', '-c', 'echo 1; echo 2; echo 3'])
  assert.equal((await ok(['wait', 'lt'])).out, '0\n')
  assert.equal((await ok(['logs', '--tail', '2', 'lt'])).out, '2\n3\n')
  assert.equal((await ok(['logs', '--tail', '1', 'lt'])).out, '3\n')
  assert.equal((await ok(['logs', '--tail', '0', 'lt'])).out, '')
  await started(['run', '-d', '--name', 'lf', 'busybox', 'sh', '-c', 'echo 1; sleep 1; echo 2'])
  const t0 = Date.now()
  const f = await ok(['logs', '-f', 'lf'])
  assert.equal(f.out, '1\n2\n')
  assert.ok(Date.now() - t0 < 10_000)
  await ok(['rm', 'lg', 'lt', 'lf'])
})

// Starts a shell that announces it has installed its traps (so a signal never arrives before them).
async function trapping (name: string, traps: string): Promise<string> {
  const id = await started(['run', '-d', '--name', name, 'busybox', 'sh', '-c', `${traps}; echo ready; while true; do sleep 0.1; done`])
  await until(`${name} to be ready`, async () => (await ok(['logs', name])).out === 'ready\n')
  return id
}

test('stop of a shell that traps SIGTERM exits with its own code, at once', async () => {
  await trapping('tr', 'trap "exit 42" TERM')
  const t0 = Date.now()
  assert.equal((await ok(['stop', 'tr'])).out, 'tr\n')
  assert.ok(Date.now() - t0 < 5000, 'stop waited for the timeout')
  assert.equal(await inspect('tr', '{{.State.ExitCode}}'), '42\n')
  await ok(['rm', 'tr'])
})

test('kill -s delivers the named signal; kill defaults to SIGKILL', async () => {
  await trapping('k', 'trap "exit 5" USR1')
  assert.equal((await ok(['kill', '-s', 'USR1', 'k'])).out, 'k\n')
  assert.equal((await ok(['wait', 'k'])).out, '5\n')
  const r = await ok(['kill', 'k'], 125)
  assert.match(r.stderr, /^Error: can only kill running containers\. [0-9a-f]{64} is in state exited: container state improper\n$/)
  await started(['run', '-d', '--name', 'k9', 'busybox', 'sleep', '1000'])
  await ok(['kill', 'k9'])
  assert.equal((await ok(['wait', 'k9'])).out, '137\n')
  await ok(['rm', 'k', 'k9'])
})

test('pause freezes the container (exec refused with 125), unpause resumes it', async () => {
  await started(['run', '-d', '--name', 'p', 'busybox', 'sleep', '1000'])
  assert.equal((await ok(['pause', 'p'])).out, 'p\n')
  assert.equal(await inspect('p', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}'), 'paused true false\n')
  const ex = await ok(['exec', 'p', 'true'], 125)
  assert.equal(ex.stderr, 'Error: container p is paused, unpause the container before exec\n')
  assert.equal((await ok(['unpause', 'p'])).out, 'p\n')
  assert.equal(await inspect('p', '{{.State.Status}}'), 'running\n')
  await ok(['exec', 'p', 'true'])
  await ok(['rm', '-f', 'p'])
})

test('restart runs the container again and the previous run\'s exit command does not stop it', async () => {
  await started(['run', '-d', '--name', 'rs', 'busybox', 'sleep', '1000'])
  const pid = await inspect('rs', '{{.State.Pid}}')
  assert.equal((await ok(['restart', '-t', '0', 'rs'])).out, 'rs\n')
  assert.equal(await inspect('rs', '{{.State.Status}} {{.RestartCount}}'), 'running 1\n')
  assert.notEqual(await inspect('rs', '{{.State.Pid}}'), pid)
  // The old conmon's `container cleanup` runs in the background after the restart returned.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  assert.equal(await inspect('rs', '{{.State.Status}}'), 'running\n')
  await ok(['rm', '-f', 'rs'])
})

test('rm: a running container needs -f; -i ignores missing ones; --all -f removes everything', async () => {
  const id = await started(['run', '-d', '--name', 'r1', 'busybox', 'sleep', '1000'])
  const r = await ok(['rm', 'r1'], 125)
  assert.equal(r.stderr, `Error: cannot remove container ${id} as it is running - running or paused containers cannot be removed without force: container state improper\n`)
  assert.equal((await ok(['rm', '-f', 'r1'])).out, id + '\n')
  assert.equal((await ok(['rm', '-i', 'nothere'])).out, '')
  const missing = await ok(['rm', 'nothere'], 125)
  assert.equal(missing.stderr, 'Error: no container with ID or name "nothere" found: no such container\n')
  const a = await started(['run', '-d', 'busybox', 'sleep', '1000'])
  const b = await started(['create', 'busybox', 'true'])
  const all = await ok(['rm', '--all', '-f'])
  assert.deepEqual(all.out.split('\n').filter((l) => l !== '').sort(), [a, b].sort())
  assert.equal((await ok(['ps', '-a', '-q'])).out, '')
})

test('a taken name is refused with podman\'s message', async () => {
  await started(['create', '--name', 'x', 'busybox', 'true'])
  const r = await ok(['create', '--name', 'x', 'busybox', 'true'], 125)
  assert.equal(r.stderr, 'Error: the container name "x" is already in use by another container\n')
  assert.equal(r.out, '')
  await ok(['rm', 'x'])
})

test('create then start; start -a attaches and returns the exit code; run -i passes stdin', async () => {
  await started(['create', '--name', 'cs', 'busybox', 'sh', '-c', 'echo started'])
  assert.equal(await inspect('cs', '{{.State.Status}}'), 'created\n')
  assert.equal((await ok(['start', 'cs'])).out, 'cs\n')
  assert.equal((await ok(['wait', 'cs'])).out, '0\n')
  assert.equal((await ok(['logs', 'cs'])).out, 'started\n')
  await started(['create', '--name', 'sa', 'busybox', 'sh', '-c', 'echo attached; echo err >&2; exit 4'])
  const a = await ok(['start', '-a', 'sa'], 4)
  assert.equal(a.out, 'attached\n')
  assert.equal(a.stderr, 'err\n')
  assert.equal((await ok(['run', '-i', '--rm', 'busybox', 'cat'], 0, 'hi\n')).out, 'hi\n')
  await ok(['rm', 'cs', 'sa'])
})

test('a write inside one container is not seen by the next container of the same image', async () => {
  await ok(['run', '--rm', 'busybox', 'sh', '-c', 'echo x > /etc/marker'])
  const r = await ok(['run', '--rm', 'busybox', 'cat', '/etc/marker'], 1)
  assert.equal(r.out, '')
  assert.equal(r.stderr, 'cat: can\'t open \'/etc/marker\': No such file or directory\n')
})

// cgroup directories conex or runc made for container `id`, in any hierarchy.
function cgroupsOf (id: string): string[] {
  const found: string[] = []
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (const p of [join('/sys/fs/cgroup', h, 'conex', id), join('/sys/fs/cgroup', h, 'conex', `conmon-${id}`)]) if (existsSync(p)) found.push(p)
  }
  return found
}

test('nothing is left after rm: no conmon, no mount, no cgroup, no bundle', async () => {
  await ok(['rm', '--all', '-f'])
  assert.ok(ids.size >= 10)
  // conmon waits for its exit command (conex container cleanup) before it exits.
  await until('conmon processes to exit', () => conmonsFor(s.root).length === 0)
  assert.deepEqual(mountsUnder(dirname(s.root)), [])
  for (const id of ids) {
    assert.deepEqual(cgroupsOf(id), [], `cgroups of ${id}`)
    assert.equal(existsSync(join(s.runroot, 'containers', id)), false, `bundle of ${id}`)
    assert.equal(existsSync(join(s.root, 'containers', id)), false, `storage of ${id}`)
  }
})
