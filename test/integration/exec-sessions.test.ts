// Exec sessions and exec's flags for real: detached sessions (id, inspect while running and after, cleanup), -e and
// --env-file, -u against the image's /etc/passwd and /etc/group, -w, --privileged, --preserve-fds, -l, --cidfile,
// arguments after the container, and --help.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SKIP, startFixture, assertNothingLeft, execInspect, waitFor, bundles, firstLine } from './exec-common'
import { conmonsFor, type Store } from '../helpers'

describe('exec sessions and flags', { skip: SKIP }, () => {
  let store: Store
  let c1: string
  let tmp: string

  before(async () => {
    ({ store, c1 } = await startFixture('exec-sessions'))
    tmp = mkdtempSync('/tmp/conex-exec-sessions-files-')
  })
  after(async () => {
    await store?.cleanup()
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true })
  })

  test('exec -d prints the session id, runs in the background, and is inspectable until and after it ends', async () => {
    // The session waits for a file we create, so "still running" is checked without racing the clock.
    const r = await store.conex(['exec', '-d', 'c1', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; echo done > /tmp/x'])
    assert.equal(r.stderr, '')
    assert.equal(r.code, 0)
    assert.match(r.out, /^[0-9a-f]{64}\n$/)
    const id = r.out.trim()
    const running = await execInspect(store, id)
    assert.equal(running.ID, id)
    assert.equal(running.ContainerID, c1)
    assert.equal(running.Running, true)
    assert.equal(running.ExitCode, null)
    assert.ok(running.Pid > 0)
    assert.equal(running.ProcessConfig.entrypoint, 'sh')
    assert.deepEqual(bundles(store), [id])
    assert.equal(conmonsFor(id).length, 1)
    assert.equal((await store.conex(['exec', 'c1', 'touch', '/tmp/go'])).code, 0)
    const x = await waitFor('/tmp/x to appear', async () => {
      const c = await store.conex(['exec', 'c1', 'cat', '/tmp/x'])
      return c.code === 0 ? c.out : undefined
    }, 20_000, 200)
    assert.equal(x, 'done\n')
    const ended = await waitFor('the session to be recorded as ended', async () => { const s = await execInspect(store, id); return s.Running ? undefined : s })
    assert.equal(ended.ExitCode, 0)
    await waitFor('the bundle and conmon to go', () => bundles(store).includes(id) || conmonsFor(id).length > 0 ? undefined : true)
  })

  test("a session's conmon is moved out of the starter's cgroup into conex's conmon cgroup", async () => {
    // The move overlaps the runtime's start (conex reads the monitor's pid from conmon's pid file), so it is waited
    // for, not assumed: for an attached and a detached session, in every v1 hierarchy the starter shares with conmon
    // and in the v2 one.
    const mine = readFileSync('/proc/self/cgroup', 'utf8')
    const pathOf = (text: string, key: string): string | undefined => text.split('\n').find((l) => l.split(':')[1] === key)?.split(':')[2]
    const keys = ['memory', 'pids', ''].filter((k) => pathOf(mine, k) !== undefined)
    assert.ok(keys.length > 0, `no known hierarchy in ${mine}`)
    const moved = async (pid: number): Promise<void> => {
      let text = ''
      await waitFor(`conmon ${pid} in /conex/conmon`, () => {
        try { text = readFileSync(`/proc/${pid}/cgroup`, 'utf8') } catch { return undefined }
        return keys.every((k) => pathOf(text, k) === '/conex/conmon') ? true : undefined
      }, 10_000, 20).catch((err: Error) => { throw new Error(`${err.message}; its cgroups: ${text.trim().split('\n').join(' ')}`) })
    }
    const attached = store.conex(['exec', 'c1', 'sh', '-c', 'touch /tmp/attached-up; sleep 3'])
    const [pidA] = await waitFor('the attached session\'s conmon', () => {
      const found = conmonsFor(store.runroot).filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('exec-process-spec'))
      return found.length > 0 ? found : undefined
    }, 20_000, 20)
    await moved(pidA)
    assert.equal((await attached).code, 0)
    const r = await store.conex(['exec', '-d', 'c1', 'sh', '-c', 'while [ ! -e /tmp/moved-go ]; do sleep 0.1; done'])
    assert.equal(r.code, 0, r.stderr)
    const id = r.out.trim()
    const [pidD] = conmonsFor(id)
    assert.ok(pidD > 0, 'the detached session has a conmon')
    await moved(pidD)
    assert.equal((await store.conex(['exec', 'c1', 'touch', '/tmp/moved-go'])).code, 0)
    await waitFor('the session to end', async () => { const x = await execInspect(store, id); return x.Running ? undefined : x })
  })

  test('the exec\'d process starts with no signal ignored or blocked (conex ignores SIGPIPE; conmon and its process do not inherit that)', async () => {
    const r = await store.conex(['exec', 'c1', 'grep', '-E', '^Sig(Blk|Ign)', '/proc/self/status'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.out, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n')
  })

  test('exec -d with a failing command records its exit code', async () => {
    const r = await store.conex(['exec', '-d', 'c1', 'sh', '-c', 'exit 7'])
    assert.equal(r.code, 0, r.stderr)
    const id = r.out.trim()
    const s = await waitFor('the session to end', async () => { const x = await execInspect(store, id); return x.Running ? undefined : x })
    assert.equal(s.ExitCode, 7)
  })

  test('exec inspect of an unknown session: 125', async () => {
    const r = await store.conex(['exec', 'inspect', 'f'.repeat(64)])
    assert.equal(r.code, 125)
    assert.match(firstLine(r), /^Error: .*no such exec session/)
  })

  test('-e K=V, -e K (from the host), -e PREFIX* and an unset K', async () => {
    const env = { ...process.env, CXT_HOSTV: 'from host', CXT_PFX_A: '1', CXT_PFX_B: 'two words' }
    const r = await store.conex(['exec', '-e', 'A=1', '-e', 'CXT_HOSTV', '-e', 'CXT_PFX_*', '-e', 'CXT_UNSET', '-e', 'EMPTY=', 'c1', 'env'], { env })
    assert.equal(r.code, 0, r.stderr)
    const lines = r.out.split('\n').filter((l) => l !== '').sort()
    assert.deepEqual(lines, ['A=1', 'CXT_HOSTV=from host', 'CXT_PFX_A=1', 'CXT_PFX_B=two words', 'EMPTY=', 'HOME=/root', `HOSTNAME=${c1.slice(0, 12)}`, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'])
  })

  test('--env-file: comments and blank lines skipped, -e wins over the file', async () => {
    const f = join(tmp, 'env')
    writeFileSync(f, 'X=1\n# a comment\n\nY=two words\nZ=from-file\n')
    const r = await store.conex(['exec', '--env-file', f, '-e', 'Z=from-flag', 'c1', 'sh', '-c', 'echo "$X|$Y|$Z"'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.out, '1|two words|from-flag\n')
  })

  test('--env-file with a bad line: 125', async () => {
    const f = join(tmp, 'bad-env')
    writeFileSync(f, 'GOOD=1\nBAD LINE=1\n')
    const r = await store.conex(['exec', '--env-file', f, 'c1', 'true'])
    assert.equal(r.code, 125, r.stderr)
    assert.equal(r.stderr, `Error: invalid env file ${f}, line 2: variable "BAD LINE" contains whitespaces\n`)
    const missing = await store.conex(['exec', '--env-file', join(tmp, 'nope'), 'c1', 'true'])
    assert.equal(missing.code, 125)
    assert.equal(missing.stderr, `Error: reading env file ${join(tmp, 'nope')}: no such file or directory\n`)
  })

  const users: Array<[string, string]> = [
    ['root', 'uid=0(root) gid=0(root) groups=10(wheel)'],
    ['daemon', 'uid=1(daemon) gid=1(daemon) groups=4(adm)'],
    ['nobody', 'uid=65534(nobody) gid=65534(nobody)'],
    ['guest', 'uid=405(guest) gid=100(users) groups=100(users)'],
    ['405', 'uid=405(guest) gid=100(users) groups=100(users)'],
    ['guest:daemon', 'uid=405(guest) gid=1(daemon)'],
    ['1:1', 'uid=1(daemon) gid=1(daemon)'],
    ['1000', 'uid=1000 gid=0(root)'],
    ['1000:1000', 'uid=1000 gid=1000'],
  ]
  test('-u resolves names and ids in the image\'s /etc/passwd and /etc/group (with supplementary groups)', async () => {
    const rs = await Promise.all(users.map(([spec]) => store.conex(['exec', '-u', spec, 'c1', 'id'])))
    users.forEach(([spec, want], i) => {
      assert.equal(rs[i].stderr, '', spec)
      assert.equal(rs[i].code, 0, spec)
      assert.equal(rs[i].out, want + '\n', spec)
    })
  })

  test('-u sets HOME from /etc/passwd', async () => {
    const r = await store.conex(['exec', '-u', 'guest', 'c1', 'sh', '-c', 'echo $HOME'])
    assert.equal(r.out, '/home/guest\n')
  })

  test('-u with an unknown user or group: 125', async () => {
    const u = await store.conex(['exec', '-u', 'nosuch', 'c1', 'id'])
    assert.equal(u.code, 125)
    assert.equal(u.stderr, 'Error: unable to find user nosuch: no matching entries in passwd file\n')
    const g = await store.conex(['exec', '-u', 'root:nosuch', 'c1', 'id'])
    assert.equal(g.code, 125)
    assert.equal(g.stderr, 'Error: unable to find group nosuch: no matching entries in group file\n')
  })

  test('-w sets the working directory; the default is the image\'s', async () => {
    const w = await store.conex(['exec', '-w', '/tmp', 'c1', 'pwd'])
    assert.equal(w.out, '/tmp\n')
    const d = await store.conex(['exec', 'c1', 'pwd'])
    assert.equal(d.out, '/\n')
  })

  test('--privileged gives the process the engine\'s whole bounding set; the default set otherwise', async () => {
    const hostBnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    assert.ok(hostBnd !== undefined)
    const plain = await store.conex(['exec', 'c1', 'grep', '-E', '^Cap(Eff|Bnd)', '/proc/self/status'])
    assert.equal(plain.code, 0, plain.stderr)
    // podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID SYS_CHROOT.
    assert.equal(plain.out, 'CapEff:\t00000000800405fb\nCapBnd:\t00000000800405fb\n')
    const priv = await store.conex(['exec', '--privileged', 'c1', 'grep', '-E', '^Cap(Eff|Bnd)', '/proc/self/status'])
    assert.equal(priv.stderr, '')
    assert.equal(priv.code, 0)
    assert.equal(priv.out, `CapEff:\t${hostBnd}\nCapBnd:\t${hostBnd}\n`)
  })

  test('--preserve-fds 1 passes the caller\'s fd 3 to the process as fd 3', async () => {
    const f = join(tmp, 'fd3')
    writeFileSync(f, 'through fd 3\n')
    const fd = openSync(f, 'r')
    try {
      const r = await store.conex(['exec', '--preserve-fds', '1', 'c1', 'sh', '-c', 'cat <&3'], { stdio: ['pipe', 'pipe', 'pipe', fd] })
      assert.equal(r.stderr, '')
      assert.equal(r.code, 0)
      assert.equal(r.out, 'through fd 3\n')
    } finally { closeSync(fd) }
  })

  test('--preserve-fds without the fds open: 125 (never the engine\'s own fds)', async () => {
    const r = await store.conex(['exec', '--preserve-fds', '1', 'c1', 'true'])
    assert.equal(r.code, 125)
    assert.equal(r.stderr, 'Error: file descriptor 3 is not available - the preserve-fds option requires that all file descriptors must be passed\n')
  })

  test('-l acts on the latest container', async () => {
    const r = await store.conex(['exec', '-l', 'sh', '-c', 'echo $HOSTNAME'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.out, c1.slice(0, 12) + '\n')
  })

  test('--cidfile reads the container id from a file', async () => {
    const f = join(tmp, 'cid')
    writeFileSync(f, c1 + '\n')
    const r = await store.conex(['exec', '--cidfile', f, 'echo', 'via cidfile'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.out, 'via cidfile\n')
    const missing = await store.conex(['exec', '--cidfile', join(tmp, 'nope'), 'true'])
    assert.equal(missing.code, 125)
    assert.equal(missing.stderr, `Error: reading CIDFile: open ${join(tmp, 'nope')}: no such file or directory\n`)
    const both = await store.conex(['exec', '-l', '--cidfile', f, 'true'])
    assert.equal(both.code, 125)
    assert.equal(both.stderr, 'Error: --latest and --cidfile cannot be used together\n')
  })

  test('arguments after the container belong to the command', async () => {
    const ls = await store.conex(['exec', 'c1', 'ls', '-la', '/'])
    assert.equal(ls.code, 0, ls.stderr)
    assert.ok(ls.out.startsWith('total '), ls.out)
    const args = await store.conex(['exec', 'c1', 'sh', '-c', 'printf "%s|" "$@"', 'x', '-d', '--help', '-it', '--user=root', '-e', 'A=1'])
    assert.equal(args.code, 0, args.stderr)
    assert.equal(args.out, '-d|--help|-it|--user=root|-e|A=1|')
  })

  test('--help prints the usage with every flag', async () => {
    const r = await store.conex(['exec', '--help'])
    assert.equal(r.code, 0)
    assert.equal(r.stderr, '')
    assert.ok(r.out.includes('conex exec [options] CONTAINER COMMAND [ARG...]'))
    for (const flag of ['-d, --detach', '--detach-keys', '-e, --env', '--env-file', '-i, --interactive', '-l, --latest', '--cidfile',
      '--preserve-fds', '--privileged', '-t, --tty', '-u, --user', '-w, --workdir', '--timeout']) {
      assert.ok(r.out.includes(flag), `--help lacks ${flag}`)
    }
    const h = await store.conex(['exec', '-h'])
    assert.equal(h.out, r.out)
  })

  test('nothing left behind', async () => { await assertNothingLeft(store) })
})
