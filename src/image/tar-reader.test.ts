import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, linkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { readTar, type TarEntry } from './tar-reader'
import { makeTar, paxData, tarHeader } from '../../test/fixtures/make-tar'

type Seen = Omit<TarEntry, 'body'> & { data: string }

async function collect (input: Readable | Buffer): Promise<Seen[]> {
  const out: Seen[] = []
  for await (const e of readTar(Buffer.isBuffer(input) ? Readable.from([input]) : input)) {
    const chunks: Buffer[] = []
    for await (const c of e.body) chunks.push(c as Buffer)
    const { body: _body, ...rest } = e
    out.push({ ...rest, data: Buffer.concat(chunks).toString() })
  }
  return out
}

const brief = (e: Seen): string => `${e.type} ${e.path}${e.linkname === '' ? '' : ` -> ${e.linkname}`} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.size} ${JSON.stringify(e.data)}`

function withTmp (name: string, fn: (dir: string) => Promise<void>): void {
  test(name, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'conex-tar-'))
    try { await fn(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
  })
}

const LONG_DIR = 'd'.repeat(60) + '/' + 'e'.repeat(60)
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(40)}.txt` // 166 bytes

function populate (src: string): void {
  mkdirSync(path.join(src, 'sub'), { recursive: true })
  mkdirSync(path.join(src, LONG_DIR), { recursive: true })
  writeFileSync(path.join(src, 'hello.txt'), 'hello world\n', { mode: 0o640 })
  writeFileSync(path.join(src, LONG_FILE), 'long name\n')
  symlinkSync('../hello.txt', path.join(src, 'sub/link'))
  symlinkSync(`../${LONG_FILE}`, path.join(src, 'sub/longlink'))
  linkSync(path.join(src, 'hello.txt'), path.join(src, 'sub/hard'))
  execFileSync('mkfifo', [path.join(src, 'fifo')])
  execFileSync('chmod', ['0640', path.join(src, 'hello.txt')])
}

const systemTar = (src: string, format: string, extra: string[] = []): Buffer => execFileSync('tar', [
  `--format=${format}`, '--sort=name', '--numeric-owner', '--owner=1234', '--group=5678', '--mtime=@1700000000',
  ...extra, '-cf', '-', '-C', src, '.',
], { maxBuffer: 64 * 1024 * 1024 })

const EXPECTED_TREE = [
  'dir ./ 755 1234:5678 0 ""',
  `dir ./${'d'.repeat(60)}/ 755 1234:5678 0 ""`,
  `dir ./${LONG_DIR}/ 755 1234:5678 0 ""`,
  `file ./${LONG_FILE} 644 1234:5678 10 "long name\\n"`,
  'fifo ./fifo 644 1234:5678 0 ""',
  `file ./hello.txt 640 1234:5678 12 "hello world\\n"`,
  'dir ./sub/ 755 1234:5678 0 ""',
  'hardlink ./sub/hard -> ./hello.txt 640 1234:5678 0 ""',
  'symlink ./sub/link -> ../hello.txt 777 1234:5678 0 ""',
  `symlink ./sub/longlink -> ../${LONG_FILE} 777 1234:5678 0 ""`,
]

withTmp('reads a GNU tar made by the system tar, with L/K long names', async dir => {
  populate(path.join(dir, 'src'))
  const entries = await collect(systemTar(path.join(dir, 'src'), 'gnu'))
  assert.deepEqual(entries.map(brief), EXPECTED_TREE)
  assert.equal(entries[0].mtime, 1700000000)
})

withTmp('reads a PAX tar with long paths, xattrs and a fractional mtime', async dir => {
  const src = path.join(dir, 'src')
  populate(src)
  execFileSync('setfattr', ['-n', 'user.conex', '-v', 'xattr-value', path.join(src, 'hello.txt')])
  const tar = systemTar(src, 'pax', ['--xattrs', '--xattrs-include=user.*', '--mtime=@1700000000.25'])
  const entries = await collect(tar)
  assert.deepEqual(entries.map(brief), EXPECTED_TREE)
  const hello = entries.find(e => e.path === './hello.txt')
  assert.deepEqual(hello?.xattrs, { 'user.conex': Buffer.from('xattr-value') })
  assert.equal(hello?.mtime, 1700000000.25)
  assert.deepEqual(entries.find(e => e.path === './fifo')?.xattrs, {})
})

withTmp('reads ustar prefix+name paths and GNU base-256 uids', async dir => {
  const src = path.join(dir, 'src')
  const deep = `${'p'.repeat(90)}/${'q'.repeat(50)}`
  mkdirSync(path.join(src, deep), { recursive: true })
  writeFileSync(path.join(src, deep, 'file.txt'), 'x')
  const ustar = await collect(systemTar(src, 'ustar'))
  assert.deepEqual(ustar.map(e => e.path), ['./', `./${'p'.repeat(90)}/`, `./${deep}/`, `./${deep}/file.txt`])
  const gnu = await collect(execFileSync('tar', ['--format=gnu', '--numeric-owner', '--owner=3000000', '--group=4000000', '-cf', '-', '-C', src, `./${deep}/file.txt`]))
  assert.deepEqual(gnu.map(e => [e.path, e.uid, e.gid, e.data]), [[`./${deep}/file.txt`, 3000000, 4000000, 'x']])
})

test('PAX path/linkpath/size/uid override the header, and global headers apply to later entries', async () => {
  const records = paxData({ path: 'pax/overridden-name', size: '5', uid: '77' })
  const tar = Buffer.concat([
    makeTar([], { globalPax: { gid: '4242', uname: 'globaluser' }, noEnd: true }),
    tarHeader({ name: 'PaxHeader', typeflag: 'x', size: records.length }),
    records, Buffer.alloc(512 - records.length),
    tarHeader({ name: 'header-name', typeflag: '0', size: 0, uid: 1 }), // size 0 here, 5 in PAX
    Buffer.from('12345'), Buffer.alloc(507),
    makeTar([
      { path: 'link', type: 'symlink', linkname: 'short', pax: { linkpath: `${'t'.repeat(120)}/target` } },
      { path: `${'n'.repeat(150)}.txt`, body: 'pax long', longName: 'pax' },
      { path: 'x', body: 'local wins', pax: { gid: '9' } },
    ]),
  ])
  const entries = await collect(tar)
  assert.deepEqual(entries.map(e => [e.path, e.type, e.linkname, e.uid, e.gid, e.uname, e.data]), [
    ['pax/overridden-name', 'file', '', 77, 4242, 'globaluser', '12345'],
    ['link', 'symlink', `${'t'.repeat(120)}/target`, 0, 4242, 'globaluser', ''],
    [`${'n'.repeat(150)}.txt`, 'file', '', 0, 4242, 'globaluser', 'pax long'],
    ['x', 'file', '', 0, 9, 'globaluser', 'local wins'],
  ])
})

withTmp('detects gzip by magic bytes, from the system tar and from zlib', async dir => {
  const src = path.join(dir, 'src')
  populate(src)
  const viaTar = await collect(execFileSync('tar', ['--format=gnu', '--sort=name', '--numeric-owner', '--owner=1234', '--group=5678', '-czf', '-', '-C', src, '.']))
  assert.deepEqual(viaTar.map(brief), EXPECTED_TREE)
  const viaZlib = await collect(gzipSync(makeTar([{ path: 'a.txt', body: 'gzipped' }])))
  assert.deepEqual(viaZlib.map(e => [e.path, e.data]), [['a.txt', 'gzipped']])
})

test('refuses zstd, xz and bzip2 input with a clear message', async () => {
  const tar = makeTar([{ path: 'a', body: 'a' }])
  const zstd = execFileSync('zstd', ['-q', '-c'], { input: tar })
  await assert.rejects(collect(zstd), { code: 'INVALID_ARGUMENT', message: 'invalid tar archive: zstd-compressed archives are not supported; decompress it first (zstd -d) or use gzip' })
  const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0, 0, 0])
  await assert.rejects(collect(xz), { message: 'invalid tar archive: xz-compressed archives are not supported; decompress it first (xz -d) or use gzip' })
  await assert.rejects(collect(Buffer.from('BZh91AY&SYxxxx')), { message: 'invalid tar archive: bzip2-compressed archives are not supported; decompress it first (bzip2 -d) or use gzip' })
})

test('rejects a corrupt header, a truncated body, bad gzip and unsupported types', async () => {
  const tar = makeTar([{ path: 'abc', body: 'x'.repeat(1000) }])
  const stored = parseInt(tar.toString('latin1', 148, 154), 8)
  const corrupt = Buffer.from(tar)
  corrupt[0] = 'b'.charCodeAt(0)
  await assert.rejects(collect(corrupt), { code: 'INVALID_ARGUMENT', message: `invalid tar archive: header checksum mismatch (stored ${stored}, computed ${stored + 1})` })
  await assert.rejects(collect(tar.subarray(0, 512 + 600)), { code: 'INVALID_ARGUMENT', message: 'invalid tar archive: unexpected end of data in "abc"' })
  await assert.rejects(collect(tar.subarray(0, 300)), { message: 'invalid tar archive: unexpected end of data (wanted 512 bytes, got 300)' })
  const gz = gzipSync(tar)
  await assert.rejects(collect(gz.subarray(0, 40)), { code: 'INVALID_ARGUMENT', message: 'invalid tar archive: bad gzip data: unexpected end of file' })
  await assert.rejects(collect(makeTar([{ path: 'label', typeflag: 'V' }])), { message: 'invalid tar archive: unsupported entry type "V" for "label"' })
  await assert.rejects(collect(makeTar([{ path: 'big', pax: { 'GNU.sparse.major': '1' } }])), { message: 'invalid tar archive: sparse files are not supported ("big")' })
  const loop = Buffer.concat([...Array.from({ length: 17 }, () => tarHeader({ name: 'PaxHeader', typeflag: 'x' })), makeTar([{ path: 'f' }])])
  await assert.rejects(collect(loop), { message: 'invalid tar archive: more than 16 metadata headers in a row' })
  const bigPax = makeTar([{ path: 'p', pax: { path: 'x'.repeat(2000) } }])
  await assert.rejects(async () => { for await (const _ of readTar(Readable.from([bigPax]), { maxMetaBytes: 1024 })); },
    { message: 'invalid tar archive: x metadata entry of 2011 bytes exceeds the 1024-byte limit' })
})

test('an empty input and a lone end block are empty archives', async () => {
  assert.deepEqual(await collect(Buffer.alloc(0)), [])
  assert.deepEqual(await collect(Buffer.alloc(512)), [])
})

test('an unread body is skipped and destroyed when the next entry is requested', async () => {
  const tar = makeTar([{ path: 'first', body: 'y'.repeat(70000) }, { path: 'second', body: 'second body' }])
  const seen: string[] = []
  let first: Readable | undefined
  for await (const e of readTar(Readable.from([tar]))) {
    if (e.path === 'first') { first = e.body; continue }
    const chunks: Buffer[] = []
    for await (const c of e.body) chunks.push(c as Buffer)
    seen.push(`${e.path}=${Buffer.concat(chunks).toString()}`)
  }
  assert.deepEqual(seen, ['second=second body'])
  assert.equal(first?.destroyed, true)
})

test('honours backpressure: the input is not read ahead of the entry body', async () => {
  const size = 16 * 1024 * 1024
  const header = tarHeader({ name: 'big.bin', typeflag: '0', size })
  let produced = 0
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  const input = new Readable({
    highWaterMark: 16 * 1024,
    read () {
      if (produced === 0) { produced += 512; this.push(header); return }
      if (produced >= size + 512) { this.push(Buffer.alloc(1024)); this.push(null); return }
      produced += chunk.length
      this.push(chunk)
    },
  })
  let total = 0
  for await (const e of readTar(input)) {
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.ok(produced < 1024 * 1024, `read ${produced} bytes ahead of a consumer that has not started`)
    for await (const c of e.body) {
      total += (c as Buffer).length
      if (total < 4 * 1024 * 1024) assert.ok(produced - total < 1024 * 1024, `buffered ${produced - total} bytes`)
    }
  }
  assert.equal(total, size)
})
