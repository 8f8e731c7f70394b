import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { extractLayer, normaliseEntryPath, type ExtractLayerOptions } from './extract-layer'
import { makeTar, type FixtureEntry } from '../../test/fixtures/make-tar'

function withTmp (name: string, fn: (dir: string) => Promise<void>): void {
  test(name, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'conex-layer-'))
    try { await fn(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
  })
}

const extract = (tar: Buffer, dest: string, opts?: ExtractLayerOptions) => extractLayer(Readable.from([tar]), dest, opts)
const extractEntries = (entries: FixtureEntry[], dest: string, opts?: ExtractLayerOptions) => extract(makeTar(entries), dest, opts)
const read = (p: string): string => readFileSync(p, 'utf8')
const getfattr = (p: string, name: string): string => execFileSync('getfattr', ['--only-values', '-n', name, p], { encoding: 'utf8' })

test('normaliseEntryPath cleans paths lexically and reports escapes', () => {
  assert.equal(normaliseEntryPath('./a//b/./c/'), 'a/b/c')
  assert.equal(normaliseEntryPath('./etc/passwd'), 'etc/passwd')
  assert.equal(normaliseEntryPath('a/../b'), 'b')
  assert.equal(normaliseEntryPath('./'), '')
  assert.equal(normaliseEntryPath('.'), '')
  assert.equal(normaliseEntryPath('a/../../b'), null)
  // absolute paths are not made relative (tar's way) but refused
  assert.equal(normaliseEntryPath('/etc/passwd'), null)
  assert.equal(normaliseEntryPath('//etc'), null)
  assert.equal(normaliseEntryPath('/'), null)
  assert.equal(normaliseEntryPath('/../etc'), null)
})

withTmp('extracts a system-tar layer with exact contents, modes, owners, times and links', async dir => {
  const src = path.join(dir, 'src')
  const long = `${'l'.repeat(80)}/${'m'.repeat(80)}.txt`
  mkdirSync(path.join(src, 'bin'), { recursive: true })
  mkdirSync(path.join(src, 'private'), { mode: 0o700 })
  mkdirSync(path.join(src, 'l'.repeat(80)))
  writeFileSync(path.join(src, 'bin/tool'), '#!/bin/sh\necho tool\n')
  writeFileSync(path.join(src, 'private/secret'), 'secret\n')
  writeFileSync(path.join(src, long), 'long\n')
  execFileSync('chmod', ['4755', path.join(src, 'bin/tool')])
  execFileSync('chmod', ['0600', path.join(src, 'private/secret')])
  execFileSync('chmod', ['0700', path.join(src, 'private')])
  symlinkSync('bin/tool', path.join(src, 'tool-link'))
  execFileSync('ln', [path.join(src, 'bin/tool'), path.join(src, 'bin/tool-hard')])
  execFileSync('mkfifo', [path.join(src, 'pipe')])
  const tar = execFileSync('tar', ['--format=gnu', '--sort=name', '--numeric-owner', '--owner=1234', '--group=5678',
    '--mtime=@1700000000', '-cf', '-', '-C', src, '.'])
  const dest = path.join(dir, 'diff')
  const result = await extract(tar, dest)
  assert.deepEqual(result, { bytes: 20 + 7 + 5, entries: 10 })
  assert.equal(read(path.join(dest, 'bin/tool')), '#!/bin/sh\necho tool\n')
  assert.equal(read(path.join(dest, 'private/secret')), 'secret\n')
  assert.equal(read(path.join(dest, long)), 'long\n')
  const mode = (p: string): string => (lstatSync(path.join(dest, p)).mode & 0o7777).toString(8)
  assert.deepEqual(['bin/tool', 'private', 'private/secret', 'bin', 'pipe'].map(mode), ['4755', '700', '600', '755', '644'])
  for (const p of ['bin', 'bin/tool', 'private', 'private/secret', 'tool-link', 'pipe', long]) {
    const st = lstatSync(path.join(dest, p))
    assert.deepEqual([p, st.uid, st.gid, st.mtimeMs], [p, 1234, 5678, 1700000000000])
  }
  assert.equal(readlinkSync(path.join(dest, 'tool-link')), 'bin/tool')
  assert.equal(statSync(path.join(dest, 'bin/tool-hard')).ino, statSync(path.join(dest, 'bin/tool')).ino)
  assert.equal(lstatSync(path.join(dest, 'pipe')).isFIFO(), true)
})

withTmp('refuses ../ escapes and absolute paths; ./ names are fine', async dir => {
  const dest = path.join(dir, 'a', 'diff')
  await assert.rejects(extractEntries([{ path: '../../etc/passwd', body: 'owned' }], dest),
    { name: 'EngineError', code: 'UNSAFE_ARCHIVE', message: 'archive entry "../../etc/passwd" escapes the destination' })
  await assert.rejects(extractEntries([{ path: 'x/../../y', body: 'owned' }], dest),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "x/../../y" escapes the destination' })
  assert.equal(existsSync(path.join(dir, 'etc')), false)
  assert.equal(existsSync(path.join(dir, 'a', 'y')), false)
  for (const [entries, message] of [
    [[{ path: 'ok', body: 'ok' }, { path: '/etc/conex-abs-test', body: 'outside' }], 'archive entry "/etc/conex-abs-test" has an absolute path; layer entries must be relative'],
    [[{ path: '/tmp/', type: 'dir' }], 'archive entry "/tmp/" has an absolute path; layer entries must be relative'],
    [[{ path: '/', type: 'dir' }], 'archive entry "/" has an absolute path; layer entries must be relative'],
    [[{ path: '//etc/conex-abs-test', body: 'x' }], 'archive entry "//etc/conex-abs-test" has an absolute path; layer entries must be relative'],
    [[{ path: '/' + 'p'.repeat(120) + '/conex-abs-test', body: 'x', longName: 'pax' }], `archive entry "/${'p'.repeat(120)}/conex-abs-test" has an absolute path; layer entries must be relative`],
  ] as Array<[FixtureEntry[], string]>) {
    const d = path.join(dir, 'abs', 'diff')
    await assert.rejects(extractEntries(entries, d), { code: 'UNSAFE_ARCHIVE', message })
    assert.equal(existsSync(path.join(d, 'etc')), false)
    assert.equal(existsSync(path.join(d, 'tmp')), false)
    rmSync(path.join(dir, 'abs'), { recursive: true })
  }
  assert.equal(existsSync('/etc/conex-abs-test'), false)
  // `tar -C dir -c .` output: the "./" member itself and "./"-prefixed names
  await extractEntries([{ path: './', type: 'dir' }, { path: './etc/', type: 'dir' }, { path: './etc/passwd', body: 'inside' }, { path: 'x/../kept', body: 'kept' }], dest)
  assert.equal(read(path.join(dest, 'etc/passwd')), 'inside')
  assert.equal(read(path.join(dest, 'kept')), 'kept')
  // an absolute symlink target is normal in a rootfs: it resolves inside the container
  await extractEntries([{ path: 'bin/busybox', body: 'bb' }, { path: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' }], dest)
  assert.equal(readlinkSync(path.join(dest, 'bin/sh')), '/bin/busybox')
})

withTmp('never writes through a symlink, even one that replaced a directory', async dir => {
  const outside = path.join(dir, 'outside')
  mkdirSync(outside)
  writeFileSync(path.join(outside, 'target'), 'original')
  const dest = path.join(dir, 'diff')
  await assert.rejects(extractEntries([{ path: 'evil', type: 'symlink', linkname: outside }, { path: 'evil/pwned', body: 'x' }], dest),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "evil/pwned" would be written through the symlink "evil"' })
  await assert.rejects(extractEntries([
    { path: 'd/', type: 'dir' }, { path: 'd/ok', body: 'ok' }, { path: 'd', type: 'symlink', linkname: '../outside' }, { path: 'd/pwned', body: 'x' },
  ], path.join(dir, 'diff2')), { code: 'UNSAFE_ARCHIVE', message: 'archive entry "d/pwned" would be written through the symlink "d"' })
  assert.equal(existsSync(path.join(outside, 'pwned')), false)
  // a file entry at a symlink's own path replaces the link instead of following it
  const dest3 = path.join(dir, 'diff3')
  await extractEntries([{ path: 'f', type: 'symlink', linkname: path.join(outside, 'target') }, { path: 'f', body: 'replaced' }], dest3)
  assert.equal(read(path.join(outside, 'target')), 'original')
  assert.equal(lstatSync(path.join(dest3, 'f')).isFile(), true)
  assert.equal(read(path.join(dest3, 'f')), 'replaced')
})

withTmp('hard links must point at something already extracted inside the destination', async dir => {
  const dest = path.join(dir, 'diff')
  const nlink = statSync('/etc/passwd').nlink
  await assert.rejects(extractEntries([{ path: 'pw', type: 'hardlink', linkname: '/etc/passwd' }], dest),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "pw" hard-links the absolute path "/etc/passwd"; link targets must be relative' })
  await assert.rejects(extractEntries([{ path: 'etc/passwd', body: 'x' }, { path: 'pw', type: 'hardlink', linkname: '/etc/passwd' }], path.join(dir, 'abs')),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "pw" hard-links the absolute path "/etc/passwd"; link targets must be relative' })
  await assert.rejects(extractEntries([{ path: 'pw', type: 'hardlink', linkname: 'etc/passwd' }], dest),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "pw" links to "etc/passwd", which is not in the layer' })
  await assert.rejects(extractEntries([{ path: 'pw', type: 'hardlink', linkname: '../../etc/passwd' }], dest),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "pw" links to "../../etc/passwd", outside the destination' })
  await assert.rejects(extractEntries([{ path: 'etc', type: 'symlink', linkname: '/etc' }, { path: 'pw', type: 'hardlink', linkname: 'etc/passwd' }], dest),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "pw" would be written through the symlink "etc"' })
  await assert.rejects(extractEntries([{ path: 'sub/', type: 'dir' }, { path: 'pw', type: 'hardlink', linkname: 'sub' }], dest),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "pw" hard-links the directory "sub"' })
  assert.equal(statSync('/etc/passwd').nlink, nlink)
  assert.equal(existsSync(path.join(dest, 'pw')), false)
  const ok = path.join(dir, 'ok')
  await extractEntries([{ path: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n' }, { path: 'pw', type: 'hardlink', linkname: './etc/passwd' }], ok)
  assert.equal(statSync(path.join(ok, 'pw')).ino, statSync(path.join(ok, 'etc/passwd')).ino)
  assert.equal(read(path.join(ok, 'pw')), 'root:x:0:0::/root:/bin/sh\n')
})

withTmp('refuses device nodes unless allowSpecial; fifos are always fine', async dir => {
  await assert.rejects(extractEntries([{ path: 'dev/null', type: 'char', devmajor: 1, devminor: 3 }], path.join(dir, 'a')),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "dev/null" is a char device; device nodes are refused unless allowSpecial is set' })
  await assert.rejects(extractEntries([{ path: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 }], path.join(dir, 'a')),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "dev/sda" is a block device; device nodes are refused unless allowSpecial is set' })
  assert.equal(existsSync(path.join(dir, 'a/dev/null')), false)
  const dest = path.join(dir, 'b')
  await extractEntries([{ path: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }, { path: 'run/fifo', type: 'fifo', mode: 0o600 }], dest, { allowSpecial: true })
  const dev = lstatSync(path.join(dest, 'dev/null'))
  assert.deepEqual([dev.isCharacterDevice(), dev.rdev, dev.mode & 0o7777], [true, (1 << 8) | 3, 0o666])
  await extractEntries([{ path: 'run/fifo', type: 'fifo', mode: 0o600 }], path.join(dir, 'c'))
  assert.equal(lstatSync(path.join(dir, 'c/run/fifo')).isFIFO(), true)
})

withTmp('enforces the byte and entry limits, also against a gzip bomb', async dir => {
  await assert.rejects(extractEntries([{ path: 'bomb', body: Buffer.alloc(1001) }], path.join(dir, 'a'), { maxBytes: 1000 }),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "bomb" (1001 bytes) takes the layer past the 1000-byte limit' })
  assert.equal(existsSync(path.join(dir, 'a/bomb')), false)
  await assert.rejects(extractEntries([{ path: 'one', body: Buffer.alloc(600) }, { path: 'two', body: Buffer.alloc(600) }], path.join(dir, 'b'), { maxBytes: 1000 }),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "two" (600 bytes) takes the layer past the 1000-byte limit' })
  const bomb = gzipSync(makeTar([{ path: 'zeros', body: Buffer.alloc(32 * 1024 * 1024) }]))
  assert.ok(bomb.length < 100 * 1024)
  await assert.rejects(extract(bomb, path.join(dir, 'c'), { maxBytes: 1024 * 1024 }),
    { code: 'UNSAFE_ARCHIVE', message: `archive entry "zeros" (${32 * 1024 * 1024} bytes) takes the layer past the ${1024 * 1024}-byte limit` })
  await assert.rejects(extractEntries(['a', 'b', 'c', 'd'].map(p => ({ path: p })), path.join(dir, 'd'), { maxEntries: 3 }),
    { code: 'UNSAFE_ARCHIVE', message: 'archive has more than 3 entries' })
})

withTmp('extracts GNU and PAX long names and long symlink targets', async dir => {
  const name = `${'g'.repeat(70)}/${'h'.repeat(70)}/file.txt`
  const paxName = `${'p'.repeat(70)}/${'q'.repeat(70)}/file.txt`
  const dest = path.join(dir, 'diff')
  await extractEntries([
    { path: name, body: 'gnu long' },
    { path: paxName, body: 'pax long', longName: 'pax' },
    { path: 'gnu-link', type: 'symlink', linkname: name },
    { path: 'pax-link', type: 'symlink', linkname: paxName, longName: 'pax' },
  ], dest)
  assert.equal(read(path.join(dest, name)), 'gnu long')
  assert.equal(read(path.join(dest, paxName)), 'pax long')
  assert.equal(readlinkSync(path.join(dest, 'gnu-link')), name)
  assert.equal(read(path.join(dest, 'pax-link')), 'pax long')
})

withTmp('turns OCI whiteouts into overlay whiteouts and opaque directories', async dir => {
  const dest = path.join(dir, 'diff')
  const result = await extractEntries([
    { path: 'a/', type: 'dir', mode: 0o755 },
    { path: 'a/.wh..wh..opq' },
    { path: 'a/keep', body: 'kept' },
    { path: '.wh.gone' },
    { path: 'b/.wh.sub' },
    { path: 'c/.wh..wh.plnk' },
    { path: 'x', body: 'soon hidden' },
    { path: '.wh.x' },
  ], dest)
  assert.deepEqual(result, { bytes: 4 + 11, entries: 8 })
  for (const p of ['gone', 'b/sub', 'x']) {
    const st = lstatSync(path.join(dest, p))
    assert.deepEqual([p, st.isCharacterDevice(), st.rdev], [p, true, 0])
  }
  assert.equal(getfattr(path.join(dest, 'a'), 'trusted.overlay.opaque'), 'y')
  assert.equal(read(path.join(dest, 'a/keep')), 'kept')
  assert.equal(existsSync(path.join(dest, '.wh.gone')), false)
  assert.equal(existsSync(path.join(dest, 'c/.wh..wh.plnk')), false)
  assert.equal(existsSync(path.join(dest, 'c')), true)
  await assert.rejects(extractEntries([{ path: 'a/.wh..wh..opq' }], path.join(dir, 'e'), { tools: { setfattr: '/nonexistent/setfattr' } }),
    { code: 'UNSAFE_ARCHIVE', message: 'cannot mark "a" opaque: /nonexistent/setfattr is missing (install the attr package)' })
  await assert.rejects(extractEntries([{ path: 'a/.wh...' }], path.join(dir, 'f')),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "a/.wh..." is not a valid whiteout' })
})

withTmp('restores user.* xattrs but never trusted.overlay.* from the archive', async dir => {
  const dest = path.join(dir, 'diff')
  await extractEntries([
    { path: 'd/', type: 'dir', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
    { path: 'd/f', body: 'f', pax: { 'SCHILY.xattr.user.origin': 'conex-test', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
  ], dest)
  assert.equal(getfattr(path.join(dest, 'd/f'), 'user.origin'), 'conex-test')
  assert.throws(() => getfattr(path.join(dest, 'd'), 'trusted.overlay.opaque'))
  assert.throws(() => getfattr(path.join(dest, 'd/f'), 'trusted.overlay.redirect'))
})

withTmp('extracts a gzip layer, reports progress, and keeps the root entry harmless', async dir => {
  const src = path.join(dir, 'src')
  mkdirSync(src)
  writeFileSync(path.join(src, 'big'), Buffer.alloc(300 * 1024, 7))
  writeFileSync(path.join(src, 'small'), 'small')
  const tgz = execFileSync('tar', ['-czf', '-', '-C', src, '.'])
  const dest = path.join(dir, 'diff')
  const progress: number[] = []
  const result = await extract(tgz, dest, { onProgress: bytes => progress.push(bytes) })
  assert.deepEqual(result, { bytes: 300 * 1024 + 5, entries: 3 })
  assert.deepEqual(readFileSync(path.join(dest, 'big')), Buffer.alloc(300 * 1024, 7))
  assert.equal(read(path.join(dest, 'small')), 'small')
  assert.ok(progress.length >= 2)
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b))
  assert.equal(progress.at(-1), 300 * 1024 + 5)
  await assert.rejects(extractEntries([{ path: './', type: 'symlink', linkname: '/' }], path.join(dir, 'r')),
    { code: 'UNSAFE_ARCHIVE', message: 'archive entry "./" would replace the destination directory' })
})
