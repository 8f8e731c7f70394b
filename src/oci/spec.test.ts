import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ALL_CAPS, DEFAULT_CAPS, DEFAULT_PATH, capsFromStatus, effectiveCaps, mergeEnv, buildContainerSpec, buildExecProcess, boundingCaps } from './spec'
import type { ContainerConfig, ExecConfig } from '../engine/types'

let rootfs: string
before(() => {
  rootfs = mkdtempSync(join(tmpdir(), 'conex-spec-'))
  mkdirSync(join(rootfs, 'etc'))
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nguest:x:405:100:guest:/home/guest:/bin/sh\n')
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\nusers:x:100:guest\n')
})
after(() => { rmSync(rootfs, { recursive: true, force: true }) })

const config = (o: Partial<ContainerConfig> = {}): ContainerConfig => ({
  command: ['sleep', '1'], entrypoint: [], env: [], user: '', workdir: '/', tty: false, stdin: false, mounts: [],
  groupAdd: [], umask: '0022', stopTimeout: 10, ulimits: [], network: 'none', autoRemove: false, hostname: 'abc123def456',
  labels: {}, capAdd: [], capDrop: [], privileged: false, stopSignal: 'SIGTERM', ...o,
})
const none = { privileged: false, capAdd: [], capDrop: [] }

test('the default capabilities are podman\'s eleven', () => {
  assert.deepEqual(DEFAULT_CAPS, ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'])
  assert.equal(ALL_CAPS.length, 41)
  assert.equal(ALL_CAPS[24], 'CAP_SYS_RESOURCE')
})

test('capsFromStatus reads the CapBnd mask bit by bit', () => {
  assert.deepEqual(capsFromStatus('Name:\tx\nCapBnd:\t000001ffffffffff\n'), ALL_CAPS)
  assert.deepEqual(capsFromStatus('CapBnd:\t000001fffeffffff\n'), ALL_CAPS.filter((c) => c !== 'CAP_SYS_RESOURCE'))
  assert.deepEqual(capsFromStatus('CapBnd:\t00000000800405fb\n').sort(), [...DEFAULT_CAPS].sort())
  assert.deepEqual(capsFromStatus('CapBnd:\t0000000000000000\n'), [])
  assert.deepEqual(capsFromStatus('no such line'), ALL_CAPS)
  // This process's own set is what "all" means for --privileged.
  assert.ok(boundingCaps().every((c) => ALL_CAPS.includes(c)))
})

test('effectiveCaps: --privileged and --cap-add=ALL give the engine\'s set, --cap-drop removes, names are normalised', () => {
  const all = ALL_CAPS.filter((c) => c !== 'CAP_SYS_RESOURCE')
  assert.deepEqual(effectiveCaps(none, all), DEFAULT_CAPS)
  assert.deepEqual(effectiveCaps({ ...none, privileged: true }, all), all)
  assert.deepEqual(effectiveCaps({ ...none, capDrop: ['ALL'] }, all), [])
  assert.deepEqual(effectiveCaps({ ...none, capDrop: ['all'], capAdd: ['kill'] }, all), ['CAP_KILL'])
  assert.deepEqual(effectiveCaps({ ...none, capDrop: ['chown', 'CAP_KILL'], capAdd: ['net_raw', 'CAP_SYS_ADMIN'] }, all),
    [...DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_KILL'), 'CAP_NET_RAW', 'CAP_SYS_ADMIN'])
  assert.deepEqual(effectiveCaps({ ...none, capAdd: ['ALL'] }, all).sort(), [...all].sort())
})

test('mergeEnv: later lists win key by key, first position kept; a bare key unsets it (dockerd\'s rule)', () => {
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3'], ['PATH=/usr/bin']), ['PATH=/usr/bin', 'A=2', 'B=3'])
  assert.deepEqual(mergeEnv(['A=x=y', 'B=1'], ['A']), ['B=1'])
  assert.deepEqual(mergeEnv(['B=1'], ['NOTSET'], ['A=2']), ['B=1', 'A=2'])
})

test('buildContainerSpec: process, env defaults, namespaces and mounts for --network none', () => {
  const etcFiles = { hostname: '/b/x/hostname', hosts: '/b/x/hosts' }
  const spec = buildContainerSpec({ id: 'x', config: config({ env: ['A=1'] }), rootfs, cgroupsPath: '/conex/x', seccomp: { defaultAction: 'SCMP_ACT_ALLOW' }, etcFiles }) as any
  assert.equal(spec.ociVersion, '1.0.2-dev')
  assert.deepEqual(spec.root, { path: rootfs, readonly: false })
  assert.equal(spec.hostname, 'abc123def456')
  assert.deepEqual(spec.process.args, ['sleep', '1'])
  assert.deepEqual(spec.process.env, [`PATH=${DEFAULT_PATH}`, 'A=1', 'HOME=/root', 'HOSTNAME=abc123def456'])
  assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [], umask: 0o022 })
  assert.equal(spec.process.cwd, '/')
  assert.equal(spec.process.terminal, false)
  assert.equal(spec.process.noNewPrivileges, false)
  assert.deepEqual(spec.process.capabilities, { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS, inheritable: [], ambient: [] })
  assert.deepEqual(spec.process.rlimits.map((r: { type: string }) => r.type), ['RLIMIT_NOFILE', 'RLIMIT_NPROC'])
  assert.deepEqual(spec.linux.namespaces, [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }])
  assert.equal(spec.linux.cgroupsPath, '/conex/x')
  assert.deepEqual(spec.linux.seccomp, { defaultAction: 'SCMP_ACT_ALLOW' })
  assert.ok(spec.linux.maskedPaths.includes('/proc/kcore'))
  assert.ok(spec.linux.readonlyPaths.includes('/proc/sys'))
  assert.deepEqual(spec.mounts.map((m: { destination: string }) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/hostname', '/etc/hosts'])
  assert.deepEqual(spec.mounts.slice(7), [
    { destination: '/etc/hostname', type: 'bind', source: '/b/x/hostname', options: ['rbind', 'rw', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: '/b/x/hosts', options: ['rbind', 'rw', 'rprivate'] },
  ])
})

test('buildContainerSpec: host network, volumes, tty, user, workdir, umask, entrypoint', () => {
  const spec = buildContainerSpec({
    id: 'x', rootfs, cgroupsPath: '/conex/x', etcFiles: { hostname: '/b/x/hostname', hosts: '/b/x/hosts' },
    config: config({
      network: 'host', tty: true, user: 'guest', workdir: '/srv', umask: '0077', entrypoint: ['sh', '-c'], command: ['echo hi'],
      mounts: [{ source: '/h/a', destination: '/a', readonly: false }, { source: '/h/b', destination: '/b', readonly: true }],
      env: ['HOME=/custom'], groupAdd: ['root'],
    }),
  }) as any
  assert.deepEqual(spec.process.args, ['sh', '-c', 'echo hi'])
  assert.deepEqual(spec.process.env, [`PATH=${DEFAULT_PATH}`, 'HOME=/custom', 'TERM=xterm', 'HOSTNAME=abc123def456'])
  assert.deepEqual(spec.process.user, { uid: 405, gid: 100, additionalGids: [100, 0], umask: 0o077 })
  assert.equal(spec.process.cwd, '/srv')
  assert.equal(spec.process.terminal, true)
  // A non-root process keeps only the bounding set.
  assert.deepEqual(spec.process.capabilities, { bounding: DEFAULT_CAPS, effective: [], permitted: [], inheritable: [], ambient: [] })
  assert.deepEqual(spec.linux.namespaces, [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }])
  assert.equal(spec.linux.seccomp, undefined)
  // The host's network: its resolv.conf and hosts, read-only; the container's own hostname file.
  assert.deepEqual(spec.mounts.slice(7), [
    { destination: '/etc/hostname', type: 'bind', source: '/b/x/hostname', options: ['rbind', 'rw', 'rprivate'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['rbind', 'ro', 'rprivate'] },
    { destination: '/a', type: 'bind', source: '/h/a', options: ['rbind', 'rw', 'rprivate'] },
    { destination: '/b', type: 'bind', source: '/h/b', options: ['rbind', 'ro', 'rprivate'] },
  ])
})

test('buildContainerSpec: --privileged unmasks paths and drops seccomp; the user can be given resolved', () => {
  const spec = buildContainerSpec({ id: 'x', rootfs: '/nonexistent', cgroupsPath: '/c', seccomp: {}, config: config({ privileged: true }), user: { uid: 7, gid: 8, additionalGids: [9], home: '/h' } }) as any
  assert.deepEqual(spec.linux.maskedPaths, [])
  assert.deepEqual(spec.linux.readonlyPaths, [])
  assert.equal(spec.linux.seccomp, undefined)
  assert.deepEqual(spec.process.user, { uid: 7, gid: 8, additionalGids: [9], umask: 0o022 })
  assert.deepEqual(spec.process.capabilities.bounding, boundingCaps())
  assert.ok(spec.process.env.includes('HOME=/h'))
  const unconfined = buildContainerSpec({ id: 'x', rootfs, cgroupsPath: '/c', seccomp: {}, config: config({ seccomp: 'unconfined', noNewPrivileges: true }) }) as any
  assert.equal(unconfined.linux.seccomp, undefined)
  assert.equal(unconfined.process.noNewPrivileges, true)
})

const exec = (o: Partial<ExecConfig> = {}): ExecConfig => ({
  command: ['id'], env: [], user: '', workdir: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true,
  privileged: false, detachKeys: '', preserveFds: 0, timeout: 0, ...o,
})

test('buildExecProcess: the container\'s process with the session\'s command, env, user, cwd and tty', () => {
  const c = config({ env: ['A=1'], workdir: '/srv', umask: '0027' })
  const containerSpec = buildContainerSpec({ id: 'x', config: c, rootfs, cgroupsPath: '/c' })
  const p = buildExecProcess({ containerSpec, containerConfig: c, exec: exec({ env: ['A=2', 'B=3'] }), rootfs, addTerm: false }) as any
  assert.deepEqual(p.args, ['id'])
  assert.deepEqual(p.env, [`PATH=${DEFAULT_PATH}`, 'A=2', 'HOME=/root', 'HOSTNAME=abc123def456', 'B=3'])
  assert.equal(p.cwd, '/srv')
  assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [], umask: 0o027 })
  assert.equal(p.terminal, false)
  assert.equal(p.consoleSize, undefined)
  const q = buildExecProcess({ containerSpec, containerConfig: c, exec: exec({ user: 'guest', workdir: '/tmp', tty: true, consoleSize: [30, 100] }), rootfs, addTerm: true }) as any
  assert.deepEqual(q.env, [`PATH=${DEFAULT_PATH}`, 'A=1', 'HOSTNAME=abc123def456', 'TERM=xterm', 'HOME=/home/guest'])
  assert.deepEqual(q.user, { uid: 405, gid: 100, additionalGids: [100], umask: 0o027 })
  assert.equal(q.cwd, '/tmp')
  assert.deepEqual(q.consoleSize, { height: 30, width: 100 })
  assert.deepEqual(q.capabilities.effective, [])
  const r = buildExecProcess({ containerSpec, containerConfig: c, exec: exec({ privileged: true }), rootfs, addTerm: false }) as any
  assert.deepEqual(r.capabilities.bounding, boundingCaps())
})
