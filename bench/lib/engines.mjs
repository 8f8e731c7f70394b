// Sets up and tears down the engines under test, every one isolated below one base directory:
//   - dockerd 20.10 (+ the containerd it manages itself) with its own data/exec roots and socket,
//   - podman 4.3 with its own root/runroot/tmpdir/containers.conf and a `podman system service`,
//   - conex (./bin/conex) with its own root/runroot and `conex system service`,
//   - a bare runc container (and crun when the host allows it) as the exec floor; on a cgroup v1 "hybrid" host, where
//     crun refuses to run, a crun container as a what-if, from a namespace that hides the cgroup2 mount (hidden-v2.mjs).
// Each engine comes back as a plain object whose `cli` / `api` parts say ok or `unavailable: <reason>`;
// a failure in one engine never stops the others. sweep() removes everything left below the base directory
// (runc containers, processes started from there, mounts, files) and is safe to run repeatedly.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { ApiClient } from './api.mjs'
import { HiddenV2, hybridCgroup2Mount } from './hidden-v2.mjs'
import { describeFailure, listProcesses, log, mountsUnder, pidAlive, run, sleep, stopPid } from './util.mjs'

export const CONTAINER = 'bench'
export const IMAGE = 'bench-busybox'
const FLOOR_ID = 'conex-bench-floor'
const FLOOR_CRUN_ID = 'conex-bench-floor-crun'
const FLOOR_CRUN_HIDDEN_ID = 'conex-bench-floor-crun-v2hidden'

export function layout (base, repo) {
  const j = (...p) => path.join(base, ...p)
  return {
    base,
    repo,
    sockDir: j('s'),
    rootfs: j('rootfs'),
    tarball: j('busybox.tar'),
    dockerCliConfig: j('docker-cli'),
    hostPathsFile: j('host-paths.json'),
    pidsFile: j('pids.json'),
    docker: { dir: j('docker'), data: j('docker', 'data'), exec: j('docker', 'exec'), pidfile: j('docker', 'dockerd.pid'), log: j('docker', 'dockerd.log'), config: j('docker', 'daemon.json'), key: j('docker', 'key.json'), sock: j('s', 'docker.sock') },
    podman: { dir: j('podman'), root: j('podman', 'root'), runroot: j('podman', 'runroot'), tmp: j('podman', 'tmp'), conf: j('podman', 'containers.conf'), networks: j('podman', 'networks'), log: j('podman', 'service.log'), sock: j('s', 'podman.sock') },
    conex: { dir: j('conex'), root: j('conex', 'root'), runroot: j('conex', 'runroot'), log: j('conex', 'service.log'), sock: j('s', 'conex.sock') },
    floor: { dir: j('floor'), bundle: j('floor', 'bundle'), runcRoot: j('floor', 'runc'), crunRoot: j('floor', 'crun'), crunHiddenRoot: j('floor', 'crun-v2hidden'), log: j('floor', 'run.log') }
  }
}

// Host paths the reference engines create outside their configured roots. Whatever did not exist before the run
// is removed afterwards (files unlinked, directories only if empty), deepest first.
const HOST_PATHS = [
  '/etc/docker/key.json', '/etc/docker',
  '/run/docker/plugins', '/run/docker',
  '/run/containerd/s', '/run/containerd',
  '/run/containers/networks', '/run/containers',
  '/run/runc', '/run/crun', '/run/libpod',
  '/etc/containers/networks/netavark.lock', '/etc/containers/networks',
  '/var/lib/containers/cache/blob-info-cache-v1.boltdb', '/var/lib/containers/cache', '/var/lib/containers'
]

export function recordHostPaths (L) {
  const existed = {}
  for (const p of HOST_PATHS) existed[p] = fs.existsSync(p)
  fs.writeFileSync(L.hostPathsFile, JSON.stringify(existed, null, 1))
}

function restoreHostPaths (existed) {
  const removed = []
  for (const p of HOST_PATHS) {
    if (existed[p] !== false) continue
    try {
      const st = fs.lstatSync(p)
      if (st.isDirectory()) fs.rmdirSync(p); else fs.unlinkSync(p)
      removed.push(p)
    } catch {}
  }
  return removed
}

function savePid (L, key, pid) {
  let pids = {}
  try { pids = JSON.parse(fs.readFileSync(L.pidsFile, 'utf8')) } catch {}
  pids[key] = pid
  try { fs.writeFileSync(L.pidsFile, JSON.stringify(pids)) } catch {}
}

function spawnDetached (cmd, args, logFile, env) {
  const fd = fs.openSync(logFile, 'a')
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: env ?? process.env })
    child.on('error', () => {})
    child.unref()
    return child.pid
  } finally { fs.closeSync(fd) }
}

function tail (file, lines = 3) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).slice(-lines).join(' | ').slice(0, 400)
  } catch { return '' }
}

async function waitPing (sock, pid, timeoutMs) {
  const client = new ApiClient(sock)
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  try {
    while (Date.now() < deadline) {
      if (pid && !pidAlive(pid)) return { ok: false, reason: 'service process exited' }
      if (fs.existsSync(sock)) {
        try {
          const text = await client.ping(2000)
          if (text.trim() === 'OK') return { ok: true }
          last = `unexpected _ping answer ${JSON.stringify(text.slice(0, 50))}`
        } catch (e) { last = e.message }
      }
      await sleep(200)
    }
    return { ok: false, reason: `no OK from /_ping within ${timeoutMs / 1000}s (${last})` }
  } finally { client.close() }
}

/** Smoke-tests one in-process API exec round trip. */
async function apiSmoke (sock, prefix = '/v1.41') {
  const client = new ApiClient(sock, prefix)
  try {
    const r = await client.exec(CONTAINER, ['true'], { timeoutMs: 30_000 })
    return r.exitCode === 0 ? { ok: true } : { ok: false, reason: `exec true exited ${r.exitCode}` }
  } catch (e) { return { ok: false, reason: e.message } } finally { client.close() }
}

/** Finds the runc state directory (root) holding container `id` somewhere below dirs. */
function findRuncRoot (id, dirs) {
  if (!id) return undefined
  for (const dir of dirs) {
    const stack = [[dir, 0]]; let seen = 0
    while (stack.length > 0 && seen < 200_000) {
      const [d, depth] = stack.pop()
      let entries
      try { entries = fs.readdirSync(d, { withFileTypes: true }) } catch { continue }
      for (const e of entries) {
        seen++
        if (!e.isDirectory()) continue
        const p = path.join(d, e.name)
        if (e.name === id && fs.existsSync(path.join(p, 'state.json'))) return d
        if (depth < 8) stack.push([p, depth + 1])
      }
    }
  }
  return undefined
}

export function dockerCliEnv (L, sock) {
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: L.dockerCliConfig, DOCKER_CLI_HINTS: 'false' }
  for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION']) delete env[k]
  return env
}

// ---------------------------------------------------------------- rootfs

export async function buildRootfs (L) {
  fs.mkdirSync(path.join(L.rootfs, 'bin'), { recursive: true })
  for (const d of ['etc', 'tmp', 'dev', 'proc', 'sys', 'root']) fs.mkdirSync(path.join(L.rootfs, d), { recursive: true })
  fs.copyFileSync('/bin/busybox', path.join(L.rootfs, 'bin', 'busybox'))
  fs.chmodSync(path.join(L.rootfs, 'bin', 'busybox'), 0o755)
  const list = await run('/bin/busybox', ['--list'], { timeoutMs: 10_000 })
  const applets = new Set(['sh', 'true', 'cat', 'dd', 'head', 'echo', 'sleep', 'wc'])
  if (list.code === 0) for (const a of list.stdout.split('\n')) if (/^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox') applets.add(a)
  for (const a of applets) {
    const link = path.join(L.rootfs, 'bin', a)
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link)
  }
  fs.writeFileSync(path.join(L.rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n')
  fs.writeFileSync(path.join(L.rootfs, 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\n')
  fs.chmodSync(path.join(L.rootfs, 'tmp'), 0o1777)
  const tar = await run('tar', ['-C', L.rootfs, '-cf', L.tarball, '.'], { timeoutMs: 60_000 })
  if (tar.code !== 0) throw new Error(`tar: ${describeFailure(tar)}`)
}

// ---------------------------------------------------------------- floor: bare runc / crun

export async function setupFloor (L) {
  const floor = { runc: { ok: false, reason: 'not set up' }, crun: { ok: false, reason: 'not set up' } }
  fs.mkdirSync(L.floor.bundle, { recursive: true })
  fs.mkdirSync(L.floor.runcRoot, { recursive: true })
  fs.mkdirSync(L.floor.crunRoot, { recursive: true })
  const spec = await run('runc', ['spec', '-b', L.floor.bundle], { timeoutMs: 10_000 })
  if (spec.code !== 0) { floor.runc.reason = `runc spec: ${describeFailure(spec)}`; floor.crun.reason = floor.runc.reason; return floor }
  const cfgPath = path.join(L.floor.bundle, 'config.json')
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'))
  cfg.process.terminal = false
  cfg.process.args = ['sleep', '100000']
  cfg.process.env = ['PATH=/bin', 'HOME=/root']
  cfg.root = { path: L.rootfs, readonly: true }
  cfg.hostname = 'floor'
  fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 1))

  const r = await run('runc', ['--root', L.floor.runcRoot, 'run', '-d', '--bundle', L.floor.bundle, FLOOR_ID], { timeoutMs: 30_000, outFile: L.floor.log })
  if (r.code === 0) floor.runc = { ok: true, cmd: 'runc', args: ['--root', L.floor.runcRoot, 'exec', FLOOR_ID, 'true'] }
  else floor.runc = { ok: false, reason: `runc run: ${describeFailure(r)}` }

  const c = await run('crun', ['--root', L.floor.crunRoot, 'run', '-d', '--bundle', L.floor.bundle, FLOOR_CRUN_ID], { timeoutMs: 30_000, outFile: L.floor.log })
  if (c.code === 0) floor.crun = { ok: true, cmd: 'crun', args: ['--root', L.floor.crunRoot, 'exec', FLOOR_CRUN_ID, 'true'] }
  else floor.crun = { ok: false, reason: `crun does not run on this host: ${describeFailure(c)}` }
  floor.crunHidden = await crunWithV2Hidden(L, c)
  floor.sealedRunc = sealedRunc(L)
  return floor
}

// The what-if row's container: only where crun refused the host for its hybrid cgroups. Its exec is run by the
// helper, in the helper's namespace; { ok, helper, args } or why not.
async function crunWithV2Hidden (L, crunRun) {
  const mountPoint = hybridCgroup2Mount()
  if (crunRun.code === 0 || mountPoint === undefined || !/hybrid/.test(crunRun.stdout + crunRun.stderr)) {
    return { ok: false, na: true, reason: 'only where crun refuses a cgroup v1 hybrid host' }
  }
  let helper
  try {
    helper = await HiddenV2.start(mountPoint)
    fs.mkdirSync(L.floor.crunHiddenRoot, { recursive: true })
    const r = await helper.run('crun', ['--root', L.floor.crunHiddenRoot, 'run', '-d', '--bundle', L.floor.bundle, FLOOR_CRUN_HIDDEN_ID], { timeoutMs: 30_000 })
    if (r.code !== 0) throw new Error(`crun run: ${r.error ?? r.stderr.trim()} (exit ${r.code})`)
    return { ok: true, helper, args: ['--root', L.floor.crunHiddenRoot, 'exec', FLOOR_CRUN_HIDDEN_ID, 'true'] }
  } catch (e) {
    helper?.close()
    return { ok: false, reason: `crun with ${mountPoint} hidden: ${e.message}` }
  }
}

// Deletes the what-if container through a helper of its own (crun refuses the host's own view), if one is left.
async function deleteCrunHidden (L, helper) {
  if (!fs.existsSync(path.join(L.floor.crunHiddenRoot, FLOOR_CRUN_HIDDEN_ID))) { helper?.close(); return }
  const mountPoint = hybridCgroup2Mount()
  try {
    helper ??= mountPoint && await HiddenV2.start(mountPoint)
    if (helper) await helper.run('crun', ['--root', L.floor.crunHiddenRoot, 'delete', '-f', FLOOR_CRUN_HIDDEN_ID], { timeoutMs: 20_000 })
  } catch (e) {
    log(`crun what-if container: ${e.message}`)
  } finally {
    helper?.close()
  }
}

// runc as conex's service runs it: from a sealed copy of its binary (src/oci/sealed-runtime.ts, the built module),
// which spares runc the copy of itself it makes at every exec; the binary found as conex finds it (config.ts).
// { ok, path } of the link to the copy, or why not.
function sealedRunc (L) {
  try {
    const built = (...p) => createRequire(import.meta.url)(path.join(L.repo, 'dist', 'src', ...p))
    const bin = built('config.js').findBinary('runc')
    if (bin === undefined) return { ok: false, reason: 'runc not found' }
    const s = built('oci', 'sealed-runtime.js').SealedRuntime.make(bin, { linkRoot: path.join(L.floor.dir, 'sealed') })
    return s === undefined ? { ok: false, reason: 'no sealed copy can be made on this host' } : { ok: true, path: s.path() }
  } catch (e) {
    return { ok: false, reason: `conex's sealed-runtime module: ${e.message}` }
  }
}

async function teardownFloor (L, floor) {
  await deleteCrunHidden(L, floor?.crunHidden?.helper)
  if (fs.existsSync(path.join(L.floor.runcRoot, FLOOR_ID))) await run('runc', ['--root', L.floor.runcRoot, 'delete', '-f', FLOOR_ID], { timeoutMs: 20_000 })
  if (fs.existsSync(path.join(L.floor.crunRoot, FLOOR_CRUN_ID))) await run('crun', ['--root', L.floor.crunRoot, 'delete', '-f', FLOOR_CRUN_ID], { timeoutMs: 20_000 })
}

// ---------------------------------------------------------------- dockerd

function blankEngine (name) {
  return {
    name,
    cli: { ok: false, reason: 'not set up' },
    dockerCli: { ok: false, reason: 'not set up' },
    api: { ok: false, reason: 'not set up' },
    libpod: { ok: false, reason: 'not applicable' },
    notes: []
  }
}

async function startDockerd (L, driver) {
  for (const d of [L.docker.data, L.docker.exec, L.sockDir, L.dockerCliConfig]) fs.mkdirSync(d, { recursive: true })
  // deprecated-key-path keeps dockerd 20.10 from writing /etc/docker/key.json
  fs.writeFileSync(L.docker.config, JSON.stringify({ 'deprecated-key-path': L.docker.key }))
  const args = [
    '--config-file', L.docker.config,
    '--data-root', L.docker.data, '--exec-root', L.docker.exec, '--pidfile', L.docker.pidfile,
    '-H', `unix://${L.docker.sock}`,
    '--iptables=false', '--ip-masq=false', '--bridge=none', '--userland-proxy=false',
    '--default-ulimit', 'nofile=1024:1024', '--storage-driver', driver
  ]
  fs.appendFileSync(L.docker.log, `\n=== dockerd ${args.join(' ')}\n`)
  const pid = spawnDetached('dockerd', args, L.docker.log)
  savePid(L, 'dockerd', pid)
  const ping = await waitPing(L.docker.sock, pid, 60_000)
  if (!ping.ok) {
    await stopPid(pid, 15_000)
    return { ok: false, reason: `${ping.reason}; log: ${tail(L.docker.log)}` }
  }
  return { ok: true, pid, args }
}

export async function setupDockerd (L) {
  const e = blankEngine('dockerd')
  e.sock = L.docker.sock
  e.scale = { runroot: L.docker.exec, stateDir: L.docker.dir }
  const env = dockerCliEnv(L, L.docker.sock)
  let started
  for (const driver of ['overlay2', 'vfs']) {
    started = await startDockerd(L, driver)
    if (started.ok) { e.storageDriver = driver; break }
    log(`dockerd with ${driver} failed: ${started.reason}`)
    e.notes.push(`storage driver ${driver} failed: ${started.reason}`)
  }
  if (!started.ok) {
    const reason = `dockerd did not start: ${started.reason}`
    e.cli = e.dockerCli = e.api = { ok: false, reason }
    return e
  }
  e.pid = started.pid
  e.command = `dockerd ${started.args.join(' ')}`
  const imp = await run('docker', ['import', '--change', 'ENV PATH=/bin', L.tarball, IMAGE], { env, timeoutMs: 120_000 })
  if (imp.code !== 0) { const reason = `docker import: ${describeFailure(imp)}`; e.cli = e.dockerCli = e.api = { ok: false, reason }; return e }
  const ctr = await run('docker', ['run', '-d', '--network', 'none', '--name', CONTAINER, IMAGE, 'sleep', '100000'], { env, timeoutMs: 60_000, outFile: path.join(L.docker.dir, 'run.log') })
  if (ctr.code !== 0) { const reason = `docker run: ${describeFailure(ctr)}`; e.cli = e.dockerCli = e.api = { ok: false, reason }; return e }
  const id = await run('docker', ['inspect', '-f', '{{.Id}}', CONTAINER], { env, timeoutMs: 30_000 })
  e.containerId = id.stdout.trim()
  const runcRoot = path.join(L.docker.exec, 'runtime-runc', 'moby')
  if (e.containerId && fs.existsSync(path.join(runcRoot, e.containerId, 'state.json'))) e.runcRoot = runcRoot
  const smoke = await run('docker', ['exec', CONTAINER, 'true'], { env, timeoutMs: 30_000 })
  e.dockerCli = smoke.code === 0 ? { ok: true, env } : { ok: false, reason: `docker exec: ${describeFailure(smoke)}` }
  e.cli = { ok: false, na: true, reason: 'dockerd has no CLI of its own; see the docker CLI rows' }
  e.api = await apiSmoke(L.docker.sock)
  return e
}

async function teardownDockerd (L) {
  let pid
  try { pid = Number(fs.readFileSync(L.docker.pidfile, 'utf8').trim()) } catch {}
  if (!pid) { try { pid = JSON.parse(fs.readFileSync(L.pidsFile, 'utf8')).dockerd } catch {} }
  if (pid && pidAlive(pid)) {
    await run('docker', ['rm', '-f', CONTAINER], { env: dockerCliEnv(L, L.docker.sock), timeoutMs: 30_000 })
    await stopPid(pid, 30_000) // dockerd stops the containerd it started
  }
}

// ---------------------------------------------------------------- podman

function podmanEnv (L) {
  return { ...process.env, CONTAINERS_CONF: L.podman.conf }
}

function podmanArgs (L, driver) {
  return ['--root', L.podman.root, '--runroot', L.podman.runroot, '--tmpdir', L.podman.tmp,
    '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--storage-driver', driver]
}

function writePodmanConf (L) {
  for (const d of [L.podman.root, L.podman.runroot, L.podman.tmp, L.podman.networks, L.sockDir, L.dockerCliConfig]) fs.mkdirSync(d, { recursive: true })
  fs.writeFileSync(L.podman.conf, [
    '# written by bench/lib/engines.mjs: keeps podman inside this host\'s hard limits (nofile 20000, no CAP_SYS_RESOURCE)',
    '[containers]',
    'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
    'pids_limit = 2048',
    'netns = "none"',
    'log_driver = "k8s-file"',
    '',
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "none"',
    'runtime = "runc"',
    `tmp_dir = "${L.podman.tmp}"`,
    `volume_path = "${path.join(L.podman.root, 'volumes')}"`,
    '# exit_command_delay stays at its default (300 s): podman keeps each API exec session (and its conmon) that long',
    '# so clients can inspect it; shortening it makes inspects fail under 128-way load.',
    '',
    '[network]',
    `network_config_dir = "${L.podman.networks}"`,
    ''
  ].join('\n'))
}

async function podmanCleanupStorage (L, driver) {
  const env = podmanEnv(L)
  await run('podman', [...podmanArgs(L, driver), 'rm', '-f', '-t', '0', '--all'], { env, timeoutMs: 60_000 })
}

export async function setupPodman (L) {
  const e = blankEngine('podman')
  e.sock = L.podman.sock
  e.scale = { runroot: L.podman.runroot, stateDir: L.podman.dir }
  const env = podmanEnv(L)
  writePodmanConf(L)
  let ok = false; let lastReason = ''
  for (const driver of ['overlay', 'vfs']) {
    const base = podmanArgs(L, driver)
    const imp = await run('podman', [...base, 'import', '--change', 'ENV PATH=/bin', L.tarball, IMAGE], { env, timeoutMs: 120_000 })
    if (imp.code !== 0) { lastReason = `podman import (${driver}): ${describeFailure(imp)}`; e.notes.push(lastReason); continue }
    const ctr = await run('podman', [...base, 'run', '-d', '--network', 'none', '--name', CONTAINER, IMAGE, 'sleep', '100000'], { env, timeoutMs: 60_000, outFile: path.join(L.podman.dir, 'run.log') })
    if (ctr.code !== 0) {
      lastReason = `podman run (${driver}): ${describeFailure(ctr)}`
      e.notes.push(lastReason)
      await podmanCleanupStorage(L, driver)
      continue
    }
    e.storageDriver = driver; e.baseArgs = base; ok = true
    break
  }
  if (!ok) { e.cli = e.dockerCli = e.api = e.libpod = { ok: false, reason: lastReason }; return e }
  e.command = `podman ${e.baseArgs.join(' ')} (CONTAINERS_CONF=${L.podman.conf})`
  const id = await run('podman', [...e.baseArgs, 'inspect', '-f', '{{.Id}}', CONTAINER], { env, timeoutMs: 30_000 })
  e.containerId = id.stdout.trim()
  if (e.containerId && fs.existsSync(path.join('/run/runc', e.containerId, 'state.json'))) e.runcRoot = '/run/runc'
  else e.runcRoot = findRuncRoot(e.containerId, [L.podman.runroot, L.podman.tmp])
  const smoke = await run('podman', [...e.baseArgs, 'exec', CONTAINER, 'true'], { env, timeoutMs: 30_000 })
  e.cli = smoke.code === 0 ? { ok: true, cmd: 'podman', args: e.baseArgs, env } : { ok: false, reason: `podman exec: ${describeFailure(smoke)}` }

  const svcArgs = [...e.baseArgs, 'system', 'service', '--time', '0', `unix://${L.podman.sock}`]
  const pid = spawnDetached('podman', svcArgs, L.podman.log, env)
  savePid(L, 'podmanService', pid)
  e.pid = pid
  const ping = await waitPing(L.podman.sock, pid, 60_000)
  if (!ping.ok) {
    const reason = `podman system service: ${ping.reason}; log: ${tail(L.podman.log)}`
    e.dockerCli = e.api = e.libpod = { ok: false, reason }
    return e
  }
  const denv = dockerCliEnv(L, L.podman.sock)
  const dsmoke = await run('docker', ['exec', CONTAINER, 'true'], { env: denv, timeoutMs: 30_000 })
  e.dockerCli = dsmoke.code === 0 ? { ok: true, env: denv } : { ok: false, reason: `docker exec via podman service: ${describeFailure(dsmoke)}` }
  e.api = await apiSmoke(L.podman.sock)
  e.libpod = await apiSmoke(L.podman.sock, '/v4.0.0/libpod')
  return e
}

async function teardownPodman (L, engine) {
  let pid = engine?.pid
  if (!pid) { try { pid = JSON.parse(fs.readFileSync(L.pidsFile, 'utf8')).podmanService } catch {} }
  if (pid) await stopPid(pid, 10_000)
  if (fs.existsSync(L.podman.conf)) {
    for (const driver of engine?.storageDriver ? [engine.storageDriver] : ['overlay', 'vfs']) await podmanCleanupStorage(L, driver)
  }
}

// ---------------------------------------------------------------- conex

export async function setupConex (L) {
  const e = blankEngine('conex')
  e.sock = L.conex.sock
  e.scale = { runroot: L.conex.runroot, stateDir: L.conex.dir }
  const bin = conexBin(L)
  const fail = (reason) => { e.cli = e.dockerCli = e.api = e.libpod = { ok: false, reason }; return e }
  if (process.env.CONEX_BENCH_BIN) e.notes.push(`binary overridden by CONEX_BENCH_BIN=${bin} (harness testing only)`)
  else {
    if (!fs.existsSync(bin)) return fail('bin/conex missing')
    if (!fs.existsSync(path.join(L.repo, 'dist', 'conex.js'))) return fail('not built (dist/conex.js missing; run `npm run build`)')
  }
  for (const d of [L.conex.root, L.conex.runroot, L.sockDir, L.dockerCliConfig]) fs.mkdirSync(d, { recursive: true })
  const base = ['--root', L.conex.root, '--runroot', L.conex.runroot]
  e.baseArgs = base
  e.bin = bin
  const ver = await run(bin, ['--version'], { timeoutMs: 30_000 })
  e.version = ver.code === 0 ? ver.stdout.trim().split('\n')[0] : `unknown (${describeFailure(ver)})`
  const ctr = await run(bin, [...base, 'run', '-d', '--name', CONTAINER, 'busybox', 'sleep', '100000'], { timeoutMs: 120_000, outFile: path.join(L.conex.dir, 'run.log') })
  if (ctr.code !== 0) return fail(`conex run: ${describeFailure(ctr)}`)
  e.containerId = ctr.stdout.trim().split('\n').pop()
  e.command = `bin/conex ${base.join(' ')}`
  const smoke = await run(bin, [...base, 'exec', CONTAINER, 'true'], { timeoutMs: 30_000 })
  e.cli = smoke.code === 0 ? { ok: true, cmd: bin, args: base } : { ok: false, reason: `conex exec: ${describeFailure(smoke)}` }

  // --time 0: like podman's, conex's service otherwise exits after 5 s without requests
  const svcArgs = [...base, 'system', 'service', '--time', '0', `unix://${L.conex.sock}`]
  const pid = spawnDetached(bin, svcArgs, L.conex.log)
  savePid(L, 'conexService', pid)
  e.pid = pid
  const ping = await waitPing(L.conex.sock, pid, 30_000)
  if (!ping.ok) {
    const reason = `conex system service: ${ping.reason}; log: ${tail(L.conex.log)}`
    e.dockerCli = e.api = e.libpod = { ok: false, reason }
  } else {
    const client = new ApiClient(L.conex.sock)
    try {
      const r = await client.request('GET', `/containers/${CONTAINER}/json`)
      if (r.json?.Id) e.containerId = r.json.Id
    } catch (err) { e.notes.push(`inspect via API failed: ${err.message}`) } finally { client.close() }
    const denv = dockerCliEnv(L, L.conex.sock)
    const dsmoke = await run('docker', ['exec', CONTAINER, 'true'], { env: denv, timeoutMs: 30_000 })
    e.dockerCli = dsmoke.code === 0 ? { ok: true, env: denv } : { ok: false, reason: `docker exec via conex service: ${describeFailure(dsmoke)}` }
    e.api = await apiSmoke(L.conex.sock)
    e.libpod = await apiSmoke(L.conex.sock, '/v4.0.0/libpod')
  }
  if (e.containerId && /^[0-9a-f]{12,64}$/.test(e.containerId)) {
    e.runcRoot = findRuncRoot(e.containerId, [L.conex.runroot, L.conex.root])
    if (!e.runcRoot && fs.existsSync(path.join('/run/runc', e.containerId, 'state.json'))) e.runcRoot = '/run/runc'
  }
  return e
}

// CONEX_BENCH_BIN lets the harness itself be tested against a stand-in before conex is built; never set for results.
function conexBin (L) {
  return process.env.CONEX_BENCH_BIN || path.join(L.repo, 'bin', 'conex')
}

async function teardownConex (L, engine) {
  const bin = conexBin(L)
  let pid = engine?.pid
  if (!pid) { try { pid = JSON.parse(fs.readFileSync(L.pidsFile, 'utf8')).conexService } catch {} }
  if (pid) await stopPid(pid, 10_000)
  if ((process.env.CONEX_BENCH_BIN || fs.existsSync(path.join(L.repo, 'dist', 'conex.js'))) && fs.existsSync(L.conex.root)) {
    await run(bin, ['--root', L.conex.root, '--runroot', L.conex.runroot, 'rm', '-f', CONTAINER], { timeoutMs: 60_000, outFile: path.join(L.conex.dir, 'rm.log') })
  }
}

// ---------------------------------------------------------------- null engine (harness ceiling)

/** Starts bench/lib/ceiling-server.mjs: an API endpoint with no container behind it, to calibrate the client. */
export async function setupNull (L) {
  const e = blankEngine('null')
  e.cli = { ok: false, na: true, reason: 'no CLI' }
  e.libpod = { ok: false, reason: 'not applicable' }
  e.sock = path.join(L.sockDir, 'null.sock')
  fs.mkdirSync(L.sockDir, { recursive: true })
  const pid = spawnDetached(process.execPath, [path.join(L.repo, 'bench', 'lib', 'ceiling-server.mjs'), e.sock], path.join(L.base, 'null-engine.log'))
  savePid(L, 'nullEngine', pid)
  e.pid = pid
  const ping = await waitPing(e.sock, pid, 10_000)
  e.api = ping.ok ? { ok: true } : { ok: false, reason: `ceiling server: ${ping.reason}` }
  // The docker CLI against it: what `docker exec` costs with an engine that does nothing.
  const denv = dockerCliEnv(L, e.sock)
  const dsmoke = ping.ok ? await run('docker', ['exec', CONTAINER, 'true'], { env: denv, timeoutMs: 30_000 }) : { code: -1 }
  e.dockerCli = dsmoke.code === 0 ? { ok: true, env: denv } : { ok: false, reason: ping.ok ? `docker exec via the null engine: ${describeFailure(dsmoke)}` : e.api.reason }
  return e
}

// ---------------------------------------------------------------- teardown / sweep

/** Stops every engine gracefully, then sweeps. Safe on a half-set-up or stale base directory. */
export async function teardownAll (L, engines = {}) {
  if (!fs.existsSync(L.base)) return { ok: true, leftovers: [], removedHostPaths: [] }
  const steps = [
    ['conex', () => teardownConex(L, engines.conex)],
    ['podman', () => teardownPodman(L, engines.podman)],
    ['dockerd', () => teardownDockerd(L)],
    ['floor', () => teardownFloor(L, engines.floor)],
    ['null', () => stopPid(engines.null?.pid, 5000)]
  ]
  for (const [name, fn] of steps) {
    try { await fn() } catch (e) { log(`teardown ${name}: ${e.message}`) }
  }
  return sweep(L)
}

function runcStatesUnder (dir) {
  const found = []
  const stack = [[dir, 0]]; let seen = 0
  while (stack.length > 0 && seen < 300_000) {
    const [d, depth] = stack.pop()
    let entries
    try { entries = fs.readdirSync(d, { withFileTypes: true }) } catch { continue }
    for (const e of entries) {
      seen++
      const p = path.join(d, e.name)
      if (e.isFile() && e.name === 'state.json') {
        try {
          if (fs.readFileSync(p, 'utf8').includes('"init_process_pid"')) found.push({ root: path.dirname(d), id: path.basename(d) })
        } catch {}
      } else if (e.isDirectory() && depth < 10) stack.push([p, depth + 1])
    }
  }
  return found
}

function ourProcesses (base) {
  const skip = new Set([process.pid, process.ppid])
  return listProcesses().filter((p) => !skip.has(p.pid) && p.cmdline.includes(base + '/'))
}

export async function sweep (L) {
  const base = L.base
  let existed = {}
  try { existed = JSON.parse(fs.readFileSync(L.hostPathsFile, 'utf8')) } catch {}
  // 1. runc containers: anything with state under base, and podman's (in /run/runc) whose bundle is under base
  const states = runcStatesUnder(base)
  try {
    for (const id of fs.readdirSync('/run/runc')) {
      try { if (fs.readFileSync(path.join('/run/runc', id, 'state.json'), 'utf8').includes(base + '/')) states.push({ root: '/run/runc', id }) } catch {}
    }
  } catch {}
  for (const s of states) await run('runc', ['--root', s.root, 'delete', '-f', s.id], { timeoutMs: 20_000 })
  if (fs.existsSync(path.join(L.floor.crunRoot, FLOOR_CRUN_ID))) await run('crun', ['--root', L.floor.crunRoot, 'delete', '-f', FLOOR_CRUN_ID], { timeoutMs: 20_000 })
  await deleteCrunHidden(L)
  // 2. processes started from base (services, conmon, shims, exit commands); two passes catch late exit commands
  for (let pass = 0; pass < 2; pass++) {
    const procs = ourProcesses(base)
    for (const p of procs) { try { process.kill(p.pid, 'SIGTERM') } catch {} }
    const deadline = Date.now() + 5000
    while (Date.now() < deadline && procs.some((p) => pidAlive(p.pid))) await sleep(100)
    for (const p of procs) if (pidAlive(p.pid)) { try { process.kill(p.pid, 'SIGKILL') } catch {} }
    await sleep(pass === 0 ? 500 : 100)
  }
  // 3. mounts, deepest first
  for (let pass = 0; pass < 3; pass++) {
    const mps = mountsUnder(base).sort((a, b) => b.length - a.length)
    if (mps.length === 0) break
    for (const mp of mps) {
      const r = await run('umount', [mp], { timeoutMs: 20_000 })
      if (r.code !== 0) await run('umount', ['-l', mp], { timeoutMs: 20_000 })
    }
  }
  // 4. files
  const leftovers = []
  const procsLeft = ourProcesses(base)
  if (procsLeft.length) leftovers.push(`${procsLeft.length} processes: ${procsLeft.map((p) => `${p.pid} ${p.comm}`).join(', ')}`)
  const mountsLeft = mountsUnder(base)
  if (mountsLeft.length) leftovers.push(`${mountsLeft.length} mounts: ${mountsLeft.slice(0, 5).join(', ')}`)
  if (mountsLeft.length === 0) {
    try { fs.rmSync(base, { recursive: true, force: true, maxRetries: 3 }) } catch (e) { leftovers.push(`rm -rf ${base}: ${e.message}`) }
  } else leftovers.push(`${base} kept because mounts remain`)
  const removedHostPaths = restoreHostPaths(existed)
  return { ok: leftovers.length === 0, leftovers, removedHostPaths }
}
