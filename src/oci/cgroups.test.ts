import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { detectCgroupMode, cgroupDirs, joinCgroup, removeCgroup } from './cgroups'

// mountinfo lines: id parent major:minor root mount-point options - fstype source super-options.
const line = (mountPoint: string, fstype: string, opts = 'rw'): string => `30 20 0:26 / ${mountPoint} rw,nosuid - ${fstype} ${fstype} ${opts}`

test('detectCgroupMode: cgroup2 at /sys/fs/cgroup is v2', () => {
  assert.equal(detectCgroupMode([line('/', 'ext4'), line('/sys/fs/cgroup', 'cgroup2')].join('\n')), 'v2')
})

test('detectCgroupMode: v1 controllers with cgroup2 at unified/ is hybrid (crun refuses it)', () => {
  assert.equal(detectCgroupMode([
    line('/sys/fs/cgroup', 'tmpfs'),
    line('/sys/fs/cgroup/unified', 'cgroup2'),
    line('/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
    line('/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'),
  ].join('\n')), 'hybrid')
})

test('detectCgroupMode: only v1 controllers (or nothing recognisable) is v1', () => {
  assert.equal(detectCgroupMode([line('/sys/fs/cgroup', 'tmpfs'), line('/sys/fs/cgroup/pids', 'cgroup', 'rw,pids')].join('\n')), 'v1')
  assert.equal(detectCgroupMode(''), 'v1')
  // A cgroup2 mounted elsewhere does not count.
  assert.equal(detectCgroupMode(line('/mnt/cg2', 'cgroup2')), 'v1')
})

test('cgroupDirs: one directory on v2; every mounted hierarchy on v1/hybrid', () => {
  assert.deepEqual(cgroupDirs('v2', '/conex/abc'), ['/sys/fs/cgroup/conex/abc'])
  const mode = detectCgroupMode()
  if (mode === 'v2') return
  const dirs = cgroupDirs(mode, '/conex/abc')
  assert.ok(dirs.includes('/sys/fs/cgroup/memory/conex/abc'), dirs.join(' '))
  assert.ok(dirs.every((d) => d.startsWith('/sys/fs/cgroup/') && d.endsWith('/conex/abc')))
  assert.equal(dirs.includes('/sys/fs/cgroup/unified/conex/abc'), mode === 'hybrid')
})

test('joinCgroup moves a process into the cgroup in every hierarchy; removeCgroup removes it once empty', { skip: process.getuid?.() === 0 ? false : 'needs root' }, async () => {
  const mode = detectCgroupMode()
  const path = `/conex-unit-test/${process.pid}`
  const child = spawn('sleep', ['30'], { stdio: 'ignore' })
  try {
    const pid = child.pid as number
    const joined = await joinCgroup(mode, path, pid)
    assert.ok(joined >= 1)
    const own = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter((l) => l.endsWith(':' + path))
    assert.equal(own.length, joined)
    // Busy: the process is still in it.
    removeCgroup(mode, path)
    assert.ok(cgroupDirs(mode, path).some((d) => existsSync(d)))
  } finally {
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
  }
  removeCgroup(mode, path)
  removeCgroup(mode, '/conex-unit-test')
  assert.deepEqual(cgroupDirs(mode, path).filter((d) => existsSync(d)), [])
})
