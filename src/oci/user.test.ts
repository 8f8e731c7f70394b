import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parsePasswd, parseGroup, resolveUser } from './user'
import { EngineError } from '../errors'

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  '# a comment',
  'guest:x:405:100:guest:/dev/null:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/:/bin/false',
  'broken:x:notanumber:0::/:',
  '',
].join('\n')
const GROUP = ['root:x:0:', 'daemon:x:1:', 'adm:x:4:daemon', 'wheel:x:10:root,guest', 'users:x:100:guest', 'nogroup:x:65534:', ''].join('\n')

let root: string
before(() => {
  root = mkdtempSync(join(tmpdir(), 'conex-user-'))
  mkdirSync(join(root, 'etc'))
  writeFileSync(join(root, 'etc', 'passwd'), PASSWD)
  writeFileSync(join(root, 'etc', 'group'), GROUP)
})
after(() => { rmSync(root, { recursive: true, force: true }) })

function rejects (fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => err instanceof EngineError && err.code === 'INVALID_ARGUMENT' && err.message === message)
}

test('parsePasswd and parseGroup skip comments, blank and malformed lines', () => {
  assert.deepEqual(parsePasswd(PASSWD).map((e) => [e.name, e.uid, e.gid, e.home]), [
    ['root', 0, 0, '/root'], ['daemon', 1, 1, '/usr/sbin'], ['guest', 405, 100, '/dev/null'], ['nobody', 65534, 65534, '/'],
  ])
  assert.deepEqual(parseGroup(GROUP).find((g) => g.name === 'wheel'), { name: 'wheel', gid: 10, members: ['root', 'guest'] })
  assert.deepEqual(parseGroup(GROUP).find((g) => g.name === 'root'), { name: 'root', gid: 0, members: [] })
})

test('no user is root with root\'s home and groups', () => {
  assert.deepEqual(resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [10], home: '/root', name: 'root' })
})

test('a name takes uid, gid, home and every group that lists it (its primary one too)', () => {
  assert.deepEqual(resolveUser(root, 'daemon'), { uid: 1, gid: 1, additionalGids: [4], home: '/usr/sbin', name: 'daemon' })
  assert.deepEqual(resolveUser(root, 'guest'), { uid: 405, gid: 100, additionalGids: [10, 100], home: '/dev/null', name: 'guest' })
})

test('a number need not exist in passwd: gid 0 and home /', () => {
  assert.deepEqual(resolveUser(root, '1000'), { uid: 1000, gid: 0, additionalGids: [], home: '/', name: undefined })
  assert.deepEqual(resolveUser(root, '405'), { uid: 405, gid: 100, additionalGids: [10, 100], home: '/dev/null', name: 'guest' })
})

test('user:group forces the group (by name or number) and drops /etc/group memberships', () => {
  assert.deepEqual(resolveUser(root, 'guest:wheel'), { uid: 405, gid: 10, additionalGids: [], home: '/dev/null', name: 'guest' })
  assert.deepEqual(resolveUser(root, '1000:1001'), { uid: 1000, gid: 1001, additionalGids: [], home: '/', name: undefined })
  assert.deepEqual(resolveUser(root, 'nobody:nogroup'), { uid: 65534, gid: 65534, additionalGids: [], home: '/', name: 'nobody' })
  // An empty group part keeps the user's own.
  assert.deepEqual(resolveUser(root, 'daemon:'), { uid: 1, gid: 1, additionalGids: [], home: '/usr/sbin', name: 'daemon' })
})

test('--group-add adds groups by name or number, after the memberships', () => {
  assert.deepEqual(resolveUser(root, '', ['adm', '1234', 'wheel']).additionalGids, [10, 4, 1234])
})

test('unknown names are refused with podman\'s wording', () => {
  rejects(() => resolveUser(root, 'nosuch'), 'unable to find user nosuch: no matching entries in passwd file')
  rejects(() => resolveUser(root, 'root:nosuch'), 'unable to find group nosuch: no matching entries in group file')
  rejects(() => resolveUser(root, '', ['nosuch']), 'unable to find group nosuch: no matching entries in group file')
})

test('a symlinked /etc/passwd (it could point at the host\'s) is treated as absent', () => {
  const evil = mkdtempSync(join(tmpdir(), 'conex-user-evil-'))
  try {
    mkdirSync(join(evil, 'etc'))
    symlinkSync('/etc/passwd', join(evil, 'etc', 'passwd'))
    rejects(() => resolveUser(evil, 'root'), 'unable to find user root: no matching entries in passwd file')
    assert.deepEqual(resolveUser(evil, '0'), { uid: 0, gid: 0, additionalGids: [], home: '/', name: undefined })
    // A rootfs without /etc at all works for numeric users.
    assert.deepEqual(resolveUser(join(evil, 'nothing'), '7:8'), { uid: 7, gid: 8, additionalGids: [], home: '/', name: undefined })
  } finally { rmSync(evil, { recursive: true, force: true }) }
})

test('a changed /etc/passwd is read again: an edit of the same size, a file replaced, a file gone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conex-user-edit-'))
  try {
    mkdirSync(join(dir, 'etc'))
    const passwd = join(dir, 'etc', 'passwd')
    writeFileSync(passwd, 'app:x:1000:1000::/home/app:/bin/sh\n')
    assert.equal(resolveUser(dir, 'app').uid, 1000)
    // The same length, written in place at once: the cached parse must not answer.
    writeFileSync(passwd, 'app:x:2000:2000::/home/app:/bin/sh\n')
    assert.deepEqual(resolveUser(dir, 'app'), { uid: 2000, gid: 2000, additionalGids: [], home: '/home/app', name: 'app' })
    // Replaced by another file (a new inode), as an image layer or `useradd` would.
    writeFileSync(passwd + '.new', 'other:x:7:7::/o:/bin/sh\n')
    renameSync(passwd + '.new', passwd)
    rejects(() => resolveUser(dir, 'app'), 'unable to find user app: no matching entries in passwd file')
    assert.equal(resolveUser(dir, 'other').home, '/o')
    rmSync(passwd)
    rejects(() => resolveUser(dir, 'other'), 'unable to find user other: no matching entries in passwd file')
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
