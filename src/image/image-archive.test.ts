import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { readImageArchive, type ArchiveImage, type ReadImageArchiveOptions } from './image-archive'
import { extractLayer } from './extract-layer'
import { makeTar, type FixtureEntry } from '../../test/fixtures/make-tar'

function withTmp (name: string, fn: (dir: string) => Promise<void>): void {
  test(name, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'conex-archive-'))
    try { await fn(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
  })
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v))

// Writes files (creating parents) and returns the directory packed by the system tar.
function tarTree (dir: string, files: Record<string, Buffer | string>, extra: string[] = []): Buffer {
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    writeFileSync(path.join(dir, rel), data)
  }
  return execFileSync('tar', [...extra, '--sort=name', '-cf', '-', '-C', dir, '.'], { maxBuffer: 64 * 1024 * 1024 })
}

const load = (tar: Buffer, workDir: string, opts?: ReadImageArchiveOptions): Promise<ArchiveImage[]> => readImageArchive(Readable.from([tar]), workDir, opts)

async function extractAll (img: ArchiveImage, dest: string): Promise<void> {
  for (const p of img.layerPaths) await extractLayer(createReadStream(p), dest)
}

const LAYER1 = makeTar([{ path: 'etc/', type: 'dir' }, { path: 'etc/os-release', body: 'ID=conex\n' }, { path: 'bin/sh', body: '#!shell\n', mode: 0o755 }])
const LAYER2 = makeTar([{ path: 'etc/motd', body: 'welcome\n' }, { path: 'etc/.wh.os-release' }])
const imageConfig = (layers: Buffer[], cmd: string): Buffer => json({
  architecture: 'amd64', os: 'linux',
  config: { Env: ['PATH=/usr/bin:/bin'], Cmd: [cmd], WorkingDir: '/srv', Labels: { demo: 'yes' } },
  rootfs: { type: 'layers', diff_ids: layers.map(l => `sha256:${sha(l)}`) },
})

// The classic `docker save` layout: <config-hex>.json, <v1-id>/layer.tar, and a symlink for a shared layer.
function dockerArchive (dir: string, mutate?: (files: Record<string, Buffer | string>) => void): Buffer {
  const cfgA = imageConfig([LAYER1, LAYER2], '/bin/a')
  const cfgB = imageConfig([LAYER1], '/bin/b')
  const files: Record<string, Buffer | string> = {
    [`${sha(cfgA)}.json`]: cfgA,
    [`${sha(cfgB)}.json`]: cfgB,
    'aaaa/layer.tar': LAYER1,
    'aaaa/VERSION': '1.0',
    'bbbb/layer.tar': LAYER2,
    'manifest.json': json([
      { Config: `${sha(cfgA)}.json`, RepoTags: ['demo:latest', 'docker.io/library/demo:1'], Layers: ['aaaa/layer.tar', 'bbbb/layer.tar'] },
      { Config: `${sha(cfgB)}.json`, RepoTags: null, Layers: ['cccc/layer.tar'] },
    ]),
    repositories: '{}',
  }
  mutate?.(files)
  mkdirSync(path.join(dir, 'cccc'), { recursive: true })
  symlinkSync('../aaaa/layer.tar', path.join(dir, 'cccc/layer.tar'))
  return tarTree(dir, files)
}

withTmp('reads a docker-archive (gzipped too), verifies digests, and its layers extract', async dir => {
  const tar = dockerArchive(path.join(dir, 'src'))
  const work = path.join(dir, 'work')
  const images = await load(gzipSync(tar), work)
  const cfgA = imageConfig([LAYER1, LAYER2], '/bin/a')
  const cfgB = imageConfig([LAYER1], '/bin/b')
  assert.deepEqual(images.map(i => ({ ...i, config: undefined })), [
    { config: undefined, configDigest: sha(cfgA), repoTags: ['demo:latest', 'docker.io/library/demo:1'], layerPaths: [path.join(work, 'aaaa/layer.tar'), path.join(work, 'bbbb/layer.tar')], diffIds: [sha(LAYER1), sha(LAYER2)] },
    { config: undefined, configDigest: sha(cfgB), repoTags: [], layerPaths: [path.join(work, 'aaaa/layer.tar')], diffIds: [sha(LAYER1)] },
  ])
  assert.deepEqual(images[0].config, JSON.parse(cfgA.toString()))
  assert.deepEqual((images[0].config.config as { Cmd: string[] }).Cmd, ['/bin/a'])
  assert.equal(existsSync(path.join(work, 'cccc/layer.tar')), false) // the alias is never created on disk
  assert.deepEqual(readFileSync(images[0].layerPaths[1]), LAYER2)
  const rootfs = path.join(dir, 'rootfs')
  await extractAll(images[0], rootfs)
  assert.equal(readFileSync(path.join(rootfs, 'etc/motd'), 'utf8'), 'welcome\n')
  assert.equal(lstatSync(path.join(rootfs, 'etc/os-release')).isCharacterDevice(), true) // whiteout from layer 2
  assert.equal(readFileSync(path.join(rootfs, 'bin/sh'), 'utf8'), '#!shell\n')
})

withTmp('rejects a docker-archive whose layer or config does not match its digest', async dir => {
  const evil = makeTar([{ path: 'etc/os-release', body: 'ID=evil\n' }])
  await assert.rejects(load(dockerArchive(path.join(dir, 'a'), f => { f['aaaa/layer.tar'] = evil }), path.join(dir, 'wa')),
    { code: 'UNSAFE_ARCHIVE', message: `layer "aaaa/layer.tar" (uncompressed) has sha256 ${sha(evil)} but ${sha(LAYER1)} was expected` })
  const cfgA = imageConfig([LAYER1, LAYER2], '/bin/a')
  const forged = Buffer.from(cfgA.toString().replace('/bin/a', '/bin/x'))
  await assert.rejects(load(dockerArchive(path.join(dir, 'b'), f => { f[`${sha(cfgA)}.json`] = forged }), path.join(dir, 'wb')),
    { code: 'UNSAFE_ARCHIVE', message: `config "${sha(cfgA)}.json" has sha256 ${sha(forged)} but ${sha(cfgA)} was expected` })
  await assert.rejects(load(dockerArchive(path.join(dir, 'c'), f => { delete f['bbbb/layer.tar'] }), path.join(dir, 'wc')),
    { code: 'INVALID_ARGUMENT', message: 'manifest.json entry 0 layer "bbbb/layer.tar" is missing from the archive' })
})

withTmp('reads the Docker 25 layout (blobs/sha256 named in manifest.json) and checks blob names', async dir => {
  const cfg = imageConfig([LAYER1], '/bin/new')
  const files = {
    [`blobs/sha256/${sha(cfg)}`]: cfg,
    [`blobs/sha256/${sha(LAYER1)}`]: LAYER1,
    'manifest.json': json([{ Config: `blobs/sha256/${sha(cfg)}`, RepoTags: ['new:1'], Layers: [`blobs/sha256/${sha(LAYER1)}`] }]),
    'oci-layout': '{"imageLayoutVersion":"1.0.0"}',
    'index.json': json({ schemaVersion: 2, manifests: [] }),
  }
  const images = await load(tarTree(path.join(dir, 'a'), files), path.join(dir, 'wa'))
  assert.deepEqual(images.map(i => [i.configDigest, i.repoTags, i.layerPaths]), [[sha(cfg), ['new:1'], [path.join(dir, 'wa', `blobs/sha256/${sha(LAYER1)}`)]]])
  const swapped = makeTar([{ path: 'x', body: 'swapped' }])
  await assert.rejects(load(tarTree(path.join(dir, 'b'), { ...files, [`blobs/sha256/${sha(LAYER1)}`]: swapped }), path.join(dir, 'wb')),
    { code: 'UNSAFE_ARCHIVE', message: `layer "blobs/sha256/${sha(LAYER1)}" has sha256 ${sha(swapped)} but ${sha(LAYER1)} was expected` })
})

// An oci-archive as podman/buildkit write it; returns the files and the digests the test needs.
function ociFiles (opts: { nested: boolean, layerType?: string, diffIds?: string[] }) {
  const blobs: Record<string, Buffer> = {}
  const add = (mediaType: string, data: Buffer, extra: object = {}) => {
    blobs[`blobs/sha256/${sha(data)}`] = data
    return { mediaType, digest: `sha256:${sha(data)}`, size: data.length, ...extra }
  }
  const layerGz = gzipSync(LAYER1)
  const image = (arch: string) => {
    const cfg = json({ architecture: arch, os: 'linux', config: { Cmd: [`/bin/${arch}`] }, rootfs: { type: 'layers', diff_ids: opts.diffIds ?? [`sha256:${sha(LAYER1)}`] } })
    const manifest = json({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: add('application/vnd.oci.image.config.v1+json', cfg),
      layers: [add(opts.layerType ?? 'application/vnd.oci.image.layer.v1.tar+gzip', layerGz)],
    })
    return { cfg, desc: add('application/vnd.oci.image.manifest.v1+json', manifest, { platform: { os: 'linux', architecture: arch } }) }
  }
  const amd = image('amd64')
  const arm = image('arm64')
  const attestation = add('application/vnd.oci.image.manifest.v1+json', json({ schemaVersion: 2, config: {}, layers: [] }),
    { platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } })
  const annotations = { 'io.containerd.image.name': 'docker.io/library/demo:1.0', 'org.opencontainers.image.ref.name': '1.0' }
  const top = opts.nested
    ? add('application/vnd.oci.image.index.v1+json', json({ schemaVersion: 2, manifests: [amd.desc, arm.desc, attestation] }), { annotations })
    : { ...amd.desc, annotations: { 'org.opencontainers.image.ref.name': 'localhost/demo:latest' } }
  const files: Record<string, Buffer | string> = {
    ...blobs, 'oci-layout': '{"imageLayoutVersion": "1.0.0"}', 'index.json': json({ schemaVersion: 2, manifests: [top] }),
  }
  return { files, amd, arm, layerGz }
}

withTmp('reads an oci-archive with a gzip layer, directly and via a nested multi-platform index', async dir => {
  const direct = ociFiles({ nested: false })
  const work = path.join(dir, 'w1')
  const images = await load(tarTree(path.join(dir, 'a'), direct.files), work)
  assert.deepEqual(images.map(i => [i.configDigest, i.repoTags, i.layerPaths, i.diffIds]),
    [[sha(direct.amd.cfg), ['localhost/demo:latest'], [path.join(work, `blobs/sha256/${sha(direct.layerGz)}`)], [sha(LAYER1)]]])
  const rootfs = path.join(dir, 'rootfs')
  await extractAll(images[0], rootfs)
  assert.equal(readFileSync(path.join(rootfs, 'etc/os-release'), 'utf8'), 'ID=conex\n')

  const nested = ociFiles({ nested: true })
  const arm = await load(tarTree(path.join(dir, 'b'), nested.files), path.join(dir, 'w2'), { architecture: 'arm64' })
  assert.deepEqual(arm.map(i => [i.configDigest, i.repoTags, (i.config.config as { Cmd: string[] }).Cmd]),
    [[sha(nested.arm.cfg), ['docker.io/library/demo:1.0'], ['/bin/arm64']]])
  await assert.rejects(load(tarTree(path.join(dir, 'c'), nested.files), path.join(dir, 'w3'), { architecture: 'riscv64' }),
    { code: 'INVALID_ARGUMENT', message: `manifest ${nested.files['index.json'].toString().match(/sha256:[a-f0-9]{64}/)?.[0]} has no image for linux/riscv64 (it has linux/amd64, linux/arm64)` })
})

withTmp('rejects oci-archives with tampered blobs, wrong sizes, wrong diff ids or zstd layers', async dir => {
  const base = ociFiles({ nested: false })
  const layerRel = `blobs/sha256/${sha(base.layerGz)}`
  const manifestDigest = JSON.parse(base.files['index.json'].toString()).manifests[0].digest
  const tampered = gzipSync(makeTar([{ path: 'evil', body: 'x' }]))
  await assert.rejects(load(tarTree(path.join(dir, 'a'), { ...base.files, [layerRel]: tampered }), path.join(dir, 'wa')),
    { code: 'UNSAFE_ARCHIVE', message: `manifest ${manifestDigest} layer 0 blob has sha256 ${sha(tampered)} but ${sha(base.layerGz)} was expected` })
  const wrongDiff = ociFiles({ nested: false, diffIds: [`sha256:${'0'.repeat(64)}`] })
  await assert.rejects(load(tarTree(path.join(dir, 'b'), wrongDiff.files), path.join(dir, 'wb')),
    { code: 'UNSAFE_ARCHIVE', message: `layer "${layerRel}" (uncompressed) has sha256 ${sha(LAYER1)} but ${'0'.repeat(64)} was expected` })
  const zstd = ociFiles({ nested: false, layerType: 'application/vnd.oci.image.layer.v1.tar+zstd' })
  await assert.rejects(load(tarTree(path.join(dir, 'c'), zstd.files), path.join(dir, 'wc')),
    { code: 'INVALID_ARGUMENT', message: `layer sha256:${sha(base.layerGz)} is zstd-compressed (application/vnd.oci.image.layer.v1.tar+zstd), which is not supported` })
  const index = JSON.parse(base.files['index.json'].toString())
  index.manifests[0].size += 1
  await assert.rejects(load(tarTree(path.join(dir, 'd'), { ...base.files, 'index.json': json(index) }), path.join(dir, 'wd')),
    { code: 'UNSAFE_ARCHIVE', message: `manifest ${manifestDigest} blob is ${index.manifests[0].size - 1} bytes but its descriptor says ${index.manifests[0].size}` })
  index.manifests[0].digest = 'sha256:../../../etc/passwd'
  await assert.rejects(load(tarTree(path.join(dir, 'e'), { ...base.files, 'index.json': json(index) }), path.join(dir, 'we')),
    { code: 'UNSAFE_ARCHIVE', message: 'manifest sha256:../../../etc/passwd has a malformed digest "sha256:../../../etc/passwd"' })
})

withTmp('refuses outer members and references that escape the work directory', async dir => {
  const cases: Array<[FixtureEntry[], string]> = [
    [[{ path: '../evil', body: 'x' }], 'archive member "../evil" escapes the work directory'],
    [[{ path: '/tmp/evil', body: 'x' }], 'archive member "/tmp/evil" has an absolute path; archive members must be relative'],
    [[{ path: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['/etc/passwd'] }]) }, { path: 'c.json', body: '{}' }],
      'manifest.json entry 0 layer "/etc/passwd" is an absolute path'],
    [[{ path: 'x/layer.tar', type: 'symlink', linkname: '../../etc/passwd' }], 'archive member "x/layer.tar" links to "../../etc/passwd", outside the archive'],
    [[{ path: 'x/layer.tar', type: 'symlink', linkname: '/etc/passwd' }], 'archive member "x/layer.tar" links to "/etc/passwd", outside the archive'],
    [[{ path: 'x/layer.tar', type: 'hardlink', linkname: '../etc/passwd' }], 'archive member "x/layer.tar" links to "../etc/passwd", outside the archive'],
    [[{ path: 'null', type: 'char', devmajor: 1, devminor: 3 }], 'archive member "null" is a char; image archives hold only files, directories and links'],
    [[{ path: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['../../etc/passwd'] }]) }, { path: 'c.json', body: '{}' }],
      'manifest.json entry 0 layer "../../etc/passwd" escapes the archive'],
  ]
  for (const [i, [entries, message]] of cases.entries()) {
    const work = path.join(dir, `w${i}`, 'work')
    await assert.rejects(load(makeTar(entries), work), { code: 'UNSAFE_ARCHIVE', message })
    assert.deepEqual(readdirSync(path.join(dir, `w${i}`)), ['work'])
  }
  assert.equal(existsSync(path.join(dir, 'evil')), false)
  await assert.rejects(load(makeTar([{ path: 'hello', body: 'x' }]), path.join(dir, 'plain')),
    { code: 'INVALID_ARGUMENT', message: 'not an image archive: it has neither manifest.json (docker-archive) nor index.json (oci-archive)' })
  await assert.rejects(load(makeTar([{ path: 'big', body: Buffer.alloc(2000) }]), path.join(dir, 'big'), { maxBytes: 1000 }),
    { code: 'UNSAFE_ARCHIVE', message: 'archive member "big" (2000 bytes) takes the archive past the 1000-byte limit' })
})

const hasSkopeo = existsSync('/usr/bin/skopeo')

test('reads docker-archive and oci-archive files written by skopeo (containers/image, as podman save uses)', { skip: hasSkopeo ? false : 'skopeo is not installed' }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'conex-archive-'))
  try {
    const { files, amd, layerGz } = ociFiles({ nested: false })
    tarTree(path.join(dir, 'layout'), files)
    const docker = path.join(dir, 'docker.tar')
    const oci = path.join(dir, 'oci.tar')
    execFileSync('skopeo', ['copy', '-q', `oci:${path.join(dir, 'layout')}:localhost/demo:latest`, `docker-archive:${docker}:localhost/demo:1`])
    execFileSync('skopeo', ['copy', '-q', `oci:${path.join(dir, 'layout')}:localhost/demo:latest`, `oci-archive:${oci}:localhost/demo:2`])
    const fromDocker = await readImageArchive(createReadStream(docker), path.join(dir, 'w1'))
    assert.deepEqual(fromDocker.map(i => [i.configDigest, i.repoTags, i.diffIds]), [[sha(amd.cfg), ['localhost/demo:1'], [sha(LAYER1)]]])
    assert.deepEqual(readFileSync(fromDocker[0].layerPaths[0]), LAYER1) // skopeo stores the layer uncompressed
    const fromOci = await readImageArchive(createReadStream(oci), path.join(dir, 'w2'))
    assert.deepEqual(fromOci.map(i => [i.configDigest, i.repoTags, i.diffIds]), [[sha(amd.cfg), ['localhost/demo:2'], [sha(LAYER1)]]])
    assert.deepEqual(readFileSync(fromOci[0].layerPaths[0]), layerGz)
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
