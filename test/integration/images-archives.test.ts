// Images from outside: `import` of a rootfs tarball made by the system tar (with --change), `load` of a
// docker-archive built by hand and of an oci-archive made from it by skopeo, each then run for real; and an archive
// entry that climbs out of the store or has an absolute name is refused with nothing written outside.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { makeStore, type Store } from '../helpers'
import { makeTar } from '../fixtures/make-tar'

let s: Store
let work: string
let layerTar: string

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

before(() => {
  s = makeStore('archives')
  work = join(dirname(s.root), 'work')
  // A minimal rootfs: a static busybox and the applets the tests call.
  const rootfs = join(work, 'rootfs')
  mkdirSync(join(rootfs, 'bin'), { recursive: true })
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'))
  for (const applet of ['sh', 'id', 'cat']) symlinkSync('busybox', join(rootfs, 'bin', applet))
  layerTar = join(work, 'rootfs.tar')
  execFileSync('tar', ['-C', rootfs, '-cf', layerTar, '.'])
})
after(async () => { await s.cleanup() })

async function ok (args: string[]): Promise<string> {
  const r = await s.conex(args)
  assert.equal(r.code, 0, `conex ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.out
}

test('import of a rootfs tarball with --change CMD, then run prints what CMD says', async () => {
  const out = await ok(['import', layerTar, 'mini:1', '--change', 'CMD ["sh","-c","echo from-import"]'])
  assert.match(out, /^sha256:[0-9a-f]{64}\n$/)
  assert.equal(await ok(['run', '--rm', 'mini:1']), 'from-import\n')
  // The imported files are byte for byte the originals (2 MB through the attach socket, too).
  const cat = await s.conex(['run', '--rm', 'mini:1', 'cat', '/bin/sh'])
  assert.equal(cat.code, 0, cat.stderr)
  assert.ok(cat.stdout.equals(readFileSync('/bin/busybox')), `got ${cat.stdout.length} bytes`)
})

test('run honours the image config set by --change: ENV, ENTRYPOINT, CMD, WORKDIR, USER', async () => {
  await ok(['import', layerTar, 'mini:cfg',
    '--change', 'ENV GREETING=hello',
    '--change', 'ENTRYPOINT ["sh","-c"]',
    '--change', 'CMD ["echo $GREETING from $(pwd) as $(id -u)"]',
    '--change', 'WORKDIR /srv',
    '--change', 'USER 1000'])
  assert.equal(await ok(['inspect', '--type', 'image', '--format', '{{json .Config}}', 'mini:cfg']),
    JSON.stringify({ Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'], Entrypoint: ['sh', '-c'], Cmd: ['echo $GREETING from $(pwd) as $(id -u)'], WorkingDir: '/srv', User: '1000' }) + '\n')
  assert.equal(await ok(['run', '--rm', 'mini:cfg']), 'hello from /srv as 1000\n')
  // Flags still win over the image: the command, -e, -w, -u.
  assert.equal(await ok(['run', '--rm', '-e', 'GREETING=hi', '-w', '/', '-u', '0', 'mini:cfg', 'echo $GREETING from $(pwd) as $(id -u)']), 'hi from / as 0\n')
})

// A docker-archive as `docker save` writes it: manifest.json, the config as <digest>.json, one layer.tar.
function dockerArchive (name: string, tag: string, cmd: string[]): string {
  const dir = join(work, `docker-${name}`)
  mkdirSync(join(dir, 'layer0'), { recursive: true })
  const layer = readFileSync(layerTar)
  copyFileSync(layerTar, join(dir, 'layer0', 'layer.tar'))
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2026-01-02T03:04:05Z',
    config: { Env: ['PATH=/bin'], Cmd: cmd, WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] },
  }))
  writeFileSync(join(dir, `${sha(config)}.json`), config)
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: [tag], Layers: ['layer0/layer.tar'] }]))
  const out = join(work, `${name}.tar`)
  execFileSync('tar', ['-C', dir, '-cf', out, '.'])
  return out
}

test('load -i of a docker-archive: the image is named by its RepoTags and runs', async () => {
  const archive = dockerArchive('docker', 'dockermini:1', ['sh', '-c', 'echo from-docker-archive'])
  assert.equal(await ok(['load', '-i', archive]), 'Loaded image: localhost/dockermini:1\n')
  assert.equal(await ok(['run', '--rm', 'dockermini:1']), 'from-docker-archive\n')
})

test('load -i of an oci-archive written by skopeo runs too', { skip: existsSync('/usr/bin/skopeo') ? false : 'skopeo is not installed' }, async () => {
  const docker = dockerArchive('for-oci', 'ocisrc:1', ['sh', '-c', 'echo from-oci-archive'])
  const oci = join(work, 'oci.tar')
  execFileSync('skopeo', ['--insecure-policy', 'copy', '-q', `docker-archive:${docker}`, `oci-archive:${oci}:localhost/ocimini:2`])
  assert.equal(await ok(['load', '-i', oci]), 'Loaded image: localhost/ocimini:2\n')
  assert.equal(await ok(['run', '--rm', 'ocimini:2']), 'from-oci-archive\n')
})

test('an archive entry that climbs out (../escape) is refused and nothing is written outside', async () => {
  const evil = join(work, 'evil.tar')
  writeFileSync(evil, makeTar([{ path: 'ok.txt', body: 'ok\n' }, { path: '../escape', body: 'bad\n' }]))
  const before = await ok(['images', '-q'])
  for (const argv of [['import', evil, 'evil:1'], ['load', '-i', evil]]) {
    const r = await s.conex(argv)
    assert.equal(r.code, 125, argv.join(' '))
    assert.match(r.stderr, /^Error: archive entry "\.\.\/escape" escapes the destination\n$|^Error: .*escapes/)
  }
  assert.equal(await ok(['images', '-q']), before)
  // Nowhere above a staging directory: the store's own directories, the store's parent, the work dir.
  const found = execFileSync('find', [dirname(s.root), '-name', 'escape'], { encoding: 'utf8' })
  assert.equal(found, '')
  assert.deepEqual(readdirSync(join(s.root, 'tmp')), [])
})

// A docker-archive around one layer, as a file: the layer's absolute names are seen only once it is extracted.
function wrapLayer (name: string, layer: Buffer, tag: string): string {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } }))
  const manifest = JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: [tag], Layers: [`${sha(layer)}/layer.tar`] }])
  const out = join(work, `${name}.tar`)
  writeFileSync(out, makeTar([{ path: 'manifest.json', body: manifest }, { path: `${sha(config)}.json`, body: config }, { path: `${sha(layer)}/`, type: 'dir' }, { path: `${sha(layer)}/layer.tar`, body: layer }]))
  return out
}

test('absolute member names are refused by import and load (exit 125, one line), not made relative', async () => {
  const marker = `conex-abs-${process.pid}`
  const layer = makeTar([{ path: './', type: 'dir' }, { path: './ok.txt', body: 'ok\n' }, { path: `/tmp/${marker}`, body: 'bad\n' }])
  const plain = join(work, 'absolute.tar')
  writeFileSync(plain, layer)
  const hardlink = join(work, 'abs-hardlink.tar')
  writeFileSync(hardlink, makeTar([{ path: 'etc/', type: 'dir' }, { path: 'etc/passwd', body: 'x\n' }, { path: 'pw', type: 'hardlink', linkname: '/etc/passwd' }]))
  const layerMsg = `Error: archive entry "/tmp/${marker}" has an absolute path; layer entries must be relative\n`
  const linkMsg = 'Error: archive entry "pw" hard-links the absolute path "/etc/passwd"; link targets must be relative\n'
  const before = await ok(['images', '-q'])
  const cases: Array<[string[], string]> = [
    [['import', plain, 'abs:1'], layerMsg],
    [['load', '-i', wrapLayer('abs-docker', layer, 'absload:1')], layerMsg],
    [['import', hardlink, 'abs:2'], linkMsg],
    // the outer archive's own members
    [['load', '-i', plain], `Error: archive member "/tmp/${marker}" has an absolute path; archive members must be relative\n`],
  ]
  for (const [argv, message] of cases) {
    const r = await s.conex(argv)
    assert.equal(r.code, 125, `${argv.join(' ')}: ${r.stderr}`)
    assert.equal(r.stderr.split('\n').filter((l) => l !== '' && !l.includes('\r') && !/^(Importing|Loading)/.test(l)).join('\n') + '\n', message)
  }
  assert.equal(existsSync(`/tmp/${marker}`), false)
  assert.equal(await ok(['images', '-q']), before)
  assert.equal(execFileSync('find', [dirname(s.root), '-name', marker], { encoding: 'utf8' }), '')
  assert.deepEqual(readdirSync(join(s.root, 'tmp')), [])
  // no layer left behind: every stored layer belongs to an image
  const layers = execFileSync('find', [s.root, '-name', 'ok.txt'], { encoding: 'utf8' })
  assert.equal(layers, '')
})

test('a layer written by tar -C dir -c . (a "./" member and ./ names) with an absolute symlink target imports and runs', async () => {
  const rootfs = join(work, 'rootfs-abs-link')
  mkdirSync(join(rootfs, 'usr', 'bin'), { recursive: true })
  cpSync(join(work, 'rootfs', 'bin'), join(rootfs, 'bin'), { recursive: true, verbatimSymlinks: true })
  symlinkSync('/bin/busybox', join(rootfs, 'usr', 'bin', 'echo'))
  const tarFile = join(work, 'rootfs-abs-link.tar')
  execFileSync('tar', ['-C', rootfs, '-cf', tarFile, '.'])
  assert.match(execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }), /^\.\/\n(.*\n)*\.\/usr\/bin\/echo\n/)
  await ok(['import', tarFile, 'abslink:1'])
  assert.equal(await ok(['run', '--rm', 'abslink:1', '/usr/bin/echo', 'via-absolute-link']), 'via-absolute-link\n')
  await ok(['rmi', 'abslink:1'])
})
