#!/usr/bin/env node
// conex benchmark harness: sets up dockerd, podman and conex side by side under one temp dir, measures exec
// latency, stream throughput, concurrency and scale, prints a Markdown report and writes
// bench/results/latest.{md,json}. Usage: node bench/run.mjs [--quick] [options]; see --help and docs/performance.md.
// An engine that cannot be set up is reported as "unavailable: <reason>"; the exit status is 1 only when
// nothing could be measured at all. Everything started is torn down at the end (also on SIGINT/SIGTERM).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildRootfs, layout, recordHostPaths, setupConex, setupDockerd, setupFloor, setupNull, setupPodman, teardownAll } from './lib/engines.mjs'
import { measureConcurrency, measureLatency, measureScale, measureThroughput, waitForPodmanCleanups } from './lib/measure.mjs'
import { computeTargets, renderMarkdown } from './lib/report.mjs'
import { abort, log, procStatus } from './lib/util.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.dirname(HERE)
const ENGINES = ['conex', 'dockerd', 'podman']
// Concurrency first: see measureConcurrency (podman's delayed exit commands).
const SECTIONS = ['concurrency', 'latency', 'throughput', 'scale']

const HELP = `usage: node bench/run.mjs [--quick] [options]   (normally: npm run bench [-- --quick])
  --quick               a few minutes: 30 latency iterations, 64 MiB streams, 32-way only, scale 200
  --engines=LIST        engines to set up (default conex,dockerd,podman)
  --sections=LIST       sections to run, always in this order (default concurrency,latency,throughput,scale)
  --scale-engines=LIST  engines for the scale section (default conex)
  --iterations=N        latency iterations       --scale-count=N   sequential execs in the scale section
  --dir=PATH            working directory (default /tmp/conex-bench; wiped before and after)
  --cleanup-only        tear down whatever a previous run left in --dir and exit`

function parseArgs (argv) {
  const o = { quick: false, engines: ENGINES, sections: SECTIONS, scaleEngines: ['conex'], dir: process.env.CONEX_BENCH_DIR || '/tmp/conex-bench' }
  for (const a of argv) {
    const [k, v] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    const list = () => v.split(',').map((s) => s.trim()).filter(Boolean)
    if (k === '--quick') o.quick = true
    else if (k === '--full') o.quick = false
    else if (k === '--engines' && v) o.engines = list()
    else if (k === '--sections' && v) o.sections = list()
    else if (k === '--scale-engines' && v) o.scaleEngines = list()
    else if (k === '--iterations' && v) o.iterations = Number(v)
    else if (k === '--scale-count' && v) o.scaleCount = Number(v)
    else if (k === '--dir' && v) o.dir = path.resolve(v)
    else if (k === '--cleanup-only') o.cleanupOnly = true
    else if (k === '--help' || k === '-h') { console.log(HELP); process.exit(0) } else { console.error(`unknown argument ${a}\n${HELP}`); process.exit(2) }
  }
  for (const e of [...o.engines, ...o.scaleEngines]) if (!ENGINES.includes(e)) { console.error(`unknown engine ${e}`); process.exit(2) }
  for (const s of o.sections) if (!SECTIONS.includes(s)) { console.error(`unknown section ${s}`); process.exit(2) }
  if (!o.dir.startsWith('/tmp/') || o.dir.length < 8) { console.error('--dir must be below /tmp (it is wiped)'); process.exit(2) }
  const p = o.quick
    ? { iterations: 30, warmup: 3, stdoutSizes: [64], stdinSize: 64, reps: 2, levels: [32], rounds: 2, scaleCount: 200 }
    : { iterations: 200, warmup: 10, stdoutSizes: [256, 1024], stdinSize: 256, reps: 3, levels: [32, 128], rounds: 3, scaleCount: 10_000 }
  if (Number.isInteger(o.iterations) && o.iterations > 0) p.iterations = Math.min(o.iterations, 100_000)
  if (Number.isInteger(o.scaleCount) && o.scaleCount > 0) p.scaleCount = Math.min(o.scaleCount, 1_000_000)
  o.params = p
  return o
}

function firstLine (cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0] } catch (e) { return `unavailable (${e.code ?? e.message.split('\n')[0]})` }
}

function dirtyTree () {
  try {
    return execFileSync('git', ['-C', REPO, 'status', '--porcelain', '--', 'src', 'bin', 'scripts/build.mjs'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
  } catch { return false }
}

function cgroupMode () {
  if (fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'v2 (unified)'
  if (fs.existsSync('/sys/fs/cgroup/unified')) return 'v1 (hybrid)'
  return 'v1 (legacy)'
}

function machineInfo () {
  let nofileHard = '?'
  try { nofileHard = fs.readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+\S+\s+(\S+)/m)?.[1] ?? '?' } catch {}
  return {
    nproc: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? '?',
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    os: (() => { try { return fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] } catch { return '?' } })(),
    cgroup: cgroupMode(),
    nofileHard
  }
}

async function main () {
  const o = parseArgs(process.argv.slice(2))
  const L = layout(o.dir, REPO)
  const t0 = Date.now()
  let engines = {}
  let floor
  let tornDown = null
  const teardown = async () => {
    if (!tornDown) tornDown = teardownAll(L, { ...engines, floor }).catch((e) => ({ ok: false, leftovers: [e.message], removedHostPaths: [] }))
    return tornDown
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      abort.requested = true
      log(`${sig}: tearing down`)
      teardown().finally(() => process.exit(130))
    })
  }

  if (fs.existsSync(L.base)) {
    log(`cleaning up what a previous run left in ${L.base}`)
    const r = await teardownAll(L, {})
    if (!r.ok) log(`previous run left: ${r.leftovers.join('; ')}`)
  }
  if (o.cleanupOnly) return 0
  if (fs.existsSync(L.base)) { console.error(`cannot clear ${L.base}; see messages above`); return 1 }

  fs.mkdirSync(L.base, { recursive: true })
  recordHostPaths(L)
  const dateUtc = firstLine('date', ['-u'])
  const meta = {
    mode: o.quick ? 'quick' : 'full',
    date: dateUtc,
    startedAt: new Date().toISOString(),
    command: process.env.BENCH_COMMAND || `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineInfo(),
    loadavgStart: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    gitCommit: firstLine('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']) + (dirtyTree() ? ' (plus uncommitted changes in src/, bin/ or scripts/build.mjs)' : ''),
    params: o.params,
    dir: L.base
  }

  let results
  try {
    log('building the busybox rootfs tarball')
    await buildRootfs(L)
    log('setting up the runc/crun floor')
    floor = await setupFloor(L)
    const skipped = (name) => {
      const reason = 'skipped by --engines'
      return { name, cli: { ok: false, reason }, dockerCli: { ok: false, reason }, api: { ok: false, reason }, libpod: { ok: false, reason }, notes: [] }
    }
    for (const [name, setup] of [['dockerd', setupDockerd], ['podman', setupPodman], ['conex', setupConex]]) {
      if (!o.engines.includes(name)) { engines[name] = skipped(name); continue }
      log(`setting up ${name}`)
      try { engines[name] = await setup(L) } catch (e) {
        engines[name] = { ...skipped(name), cli: { ok: false, reason: e.message }, dockerCli: { ok: false, reason: e.message }, api: { ok: false, reason: e.message }, libpod: { ok: false, reason: e.message } }
      }
      const e = engines[name]
      log(`${name}: cli ${e.cli.ok ? 'ok' : e.cli.reason}; docker CLI ${e.dockerCli.ok ? 'ok' : e.dockerCli.reason}; api ${e.api.ok ? 'ok' : e.api.reason}`)
    }
    log('starting the null engine (harness ceiling)')
    engines.null = await setupNull(L)
    engines = { conex: engines.conex, dockerd: engines.dockerd, podman: engines.podman, null: engines.null }
    meta.versions = {
      node: process.version,
      dockerd: firstLine('dockerd', ['--version']),
      'docker CLI': firstLine('docker', ['--version']),
      podman: firstLine('podman', ['--version']),
      runc: firstLine('runc', ['--version']),
      crun: firstLine('crun', ['--version']),
      conmon: firstLine('conmon', ['--version']),
      conex: engines.conex.version ?? 'n/a'
    }
    meta.floor = { runc: floor.runc.ok ? 'ok' : floor.runc.reason, crun: floor.crun.ok ? 'ok' : floor.crun.reason, crunHidden: floor.crunHidden.ok ? 'ok' : floor.crunHidden.reason }
    meta.engineCommands = Object.fromEntries(Object.values(engines).filter((e) => e.command).map((e) => [e.name, e.command]))

    const rss = () => Object.fromEntries(['conex', 'dockerd', 'podman'].map((n) => [n, procStatus(engines[n]?.pid)?.rssKiB ?? null]))
    meta.serviceRssKiB = { afterSetup: rss() }
    const anything = ['conex', 'dockerd', 'podman'].some((n) => engines[n].cli.ok || engines[n].api.ok || engines[n].dockerCli.ok)
    if (!anything) {
      log('no engine could be set up; nothing to measure')
      results = { meta, engines: publicEngines(engines), fatal: 'no engine could be set up' }
    } else {
      results = { meta, engines: publicEngines(engines) }
      const p = o.params
      if (o.sections.includes('concurrency')) {
        results.concurrency = await measureConcurrency(engines, p)
        // A full run waits for podman's delayed exit commands to have run before the latency section (up to 330 s).
        if (!o.quick && engines.podman?.api.ok && o.sections.some((s) => s === 'latency' || s === 'throughput')) {
          meta.podmanCleanupWait = await waitForPodmanCleanups(engines.podman, 330_000)
        }
      }
      if (o.sections.includes('latency')) results.latency = await measureLatency(engines, floor, p)
      if (o.sections.includes('throughput')) results.throughput = await measureThroughput(engines, p)
      if (o.sections.includes('scale')) results.scale = await measureScale(engines, { count: p.scaleCount, engines: o.scaleEngines })
      meta.serviceRssKiB.atEnd = rss()
    }
  } catch (e) {
    log(`harness error: ${e.stack}`)
    results = { ...(results ?? {}), meta, engines: publicEngines(engines), fatal: e.message }
  }

  log('tearing down')
  const td = await teardown()
  meta.cleanup = td.ok ? 'complete' : `incomplete: ${td.leftovers.join('; ')}`
  meta.removedHostPaths = td.removedHostPaths
  meta.durationSec = (Date.now() - t0) / 1000
  meta.loadavgEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ')
  meta.finishedAt = new Date().toISOString()
  results.targets = computeTargets(results)

  const md = renderMarkdown(results) + (results.fatal ? `\n**Harness stopped early: ${results.fatal}**\n` : '')
  const outDir = path.join(REPO, 'bench', 'results')
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'latest.md'), md + '\n')
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(results, null, 1) + '\n')
  const stamp = meta.startedAt.replace(/[:.]/g, '-')
  fs.writeFileSync(path.join(outDir, `${stamp}-${meta.mode}.json`), JSON.stringify(results, null, 1) + '\n')
  process.stdout.write(md + '\n')
  log(`wrote bench/results/latest.md and latest.json (${meta.durationSec.toFixed(0)} s)`)
  const measuredSomething = ['latency', 'throughput', 'concurrency', 'scale'].some((s) => (results[s] ?? []).some((r) => (r.n ?? r.rounds ?? r.done ?? 0) > 0))
  return measuredSomething ? 0 : 1
}

function publicEngines (engines) {
  const strip = (part) => part && { ok: part.ok, ...(part.ok ? {} : { reason: part.reason }), ...(part.na ? { na: true } : {}) }
  return Object.fromEntries(Object.entries(engines).filter(([, e]) => e).map(([k, e]) => [k, {
    name: e.name, cli: strip(e.cli), dockerCli: strip(e.dockerCli), api: strip(e.api), libpod: strip(e.libpod),
    storageDriver: e.storageDriver, containerId: e.containerId, runcRoot: e.runcRoot, command: e.command, version: e.version, notes: e.notes
  }]))
}

main().then((code) => process.exit(code), (e) => { console.error(e.stack); process.exit(1) })
