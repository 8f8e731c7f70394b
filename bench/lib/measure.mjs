// The measurements. Every section interleaves engines (A, B, C, A, B, C, ...) so slow drifts on the host are
// spread over all of them, bounds every loop and every child process, and records failures instead of throwing.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ApiClient } from './api.mjs'
import { CONTAINER } from './engines.mjs'
import { abort, countFiles, describeFailure, descendants, listProcesses, log, mountsUnder, procStatus, run, sleep, summarize } from './util.mjs'

const MiB = 1 << 20
const MAX_CONSECUTIVE_FAILURES = 5

function unavailable (reason) { return `unavailable: ${reason}` }

async function cliOk (cmd, args, opts) {
  const r = await run(cmd, args, opts)
  if (r.code !== 0 || r.error) throw new Error(describeFailure(r))
  return r
}

// ------------------------------------------------------------------------------------------ latency

/** Builds the latency cases; each has run() -> ms, or `skip` with the reason it cannot be measured. */
export function latencyCases (E, floor) {
  const cases = []
  const add = (group, label, engine, part, fn) => {
    const c = { group, label, engine, samples: [], failures: 0, errors: [] }
    if (!part.ok) c.skip = unavailable(part.reason)
    else c.run = fn
    cases.push(c)
  }
  const clients = []
  const client = (sock, prefix) => { const c = new ApiClient(sock, prefix); clients.push(c); return c }

  // Every CLI runs with pipes for stdin, stdout and stderr, as a shell pipeline gives them (util.mjs, fifoStdio).
  for (const name of ['conex', 'dockerd', 'podman', 'null']) {
    const e = E[name]
    if (!e) continue
    const via = name === 'dockerd' ? 'dockerd' : name === 'null' ? 'the null engine (the docker CLI\'s own cost)' : `${name} service`
    add('docker CLI', `docker exec bench true → ${via}`, name, e.dockerCli, async () =>
      (await cliOk('docker', ['exec', CONTAINER, 'true'], { env: e.dockerCli.env, timeoutMs: 30_000, shellPipes: true })).ms)
  }
  for (const name of ['conex', 'podman']) {
    const e = E[name]
    add('engine CLI', `${name} exec bench true`, name, e.cli, async () =>
      (await cliOk(e.cli.cmd, [...e.cli.args, 'exec', CONTAINER, 'true'], { env: e.cli.env, timeoutMs: 30_000, shellPipes: true })).ms)
  }
  // conex's other path: with sockets for stdio (Node's child_process; terminals likewise) it keeps conmon's attach socket.
  add('engine CLI', 'conex exec bench true, stdio socketpairs (attach socket)', 'conex', E.conex.cli, async () =>
    (await cliOk(E.conex.cli.cmd, [...E.conex.cli.args, 'exec', CONTAINER, 'true'], { env: E.conex.cli.env, timeoutMs: 30_000 })).ms)
  for (const name of ['conex', 'dockerd', 'podman', 'null']) {
    const e = E[name]
    if (!e) continue
    const c = e.api.ok ? client(e.sock, '/v1.41') : null
    const what = name === 'null' ? 'same client against the null engine (harness ceiling)' : 'create → start (hijacked, to EOF) → inspect'
    add('Docker API', what, name, e.api, async () => {
      const r = await c.exec(CONTAINER, ['true'], { timeoutMs: 30_000 })
      if (r.exitCode !== 0) throw new Error(`exit code ${r.exitCode}`)
      return r.ms
    })
  }
  for (const name of ['conex', 'podman']) {
    const e = E[name]
    const c = e.libpod.ok ? client(e.sock, '/v4.0.0/libpod') : null
    add('libpod API', 'create → start (hijacked, to EOF) → inspect', name, e.libpod, async () => {
      const r = await c.exec(CONTAINER, ['true'], { timeoutMs: 30_000 })
      if (r.exitCode !== 0) throw new Error(`exit code ${r.exitCode}`)
      return r.ms
    })
  }
  const floorRow = (label, engine, part) => add('floor', label, engine, part, async () =>
    (await cliOk(part.cmd, part.args, { timeoutMs: 30_000 })).ms)
  floorRow('runc exec (harness container)', 'runc', floor.runc)
  for (const name of ['conex', 'dockerd', 'podman']) {
    const e = E[name]
    const usable = e.runcRoot && e.containerId
    const reason = !e.containerId ? `${name} container not running (${e.api.reason ?? e.cli.reason ?? 'not set up'})` : `runc state of ${name}'s container not found`
    floorRow(`runc exec (${name}'s container)`, `runc→${name}`,
      usable ? { ok: true, cmd: 'runc', args: ['--root', e.runcRoot, 'exec', e.containerId, 'true'] } : { ok: false, reason })
  }
  const sealedOk = floor.sealedRunc?.ok && E.conex.runcRoot && E.conex.containerId
  floorRow('runc exec (conex\'s container), from a sealed copy as conex\'s service runs it', 'runc(sealed)→conex',
    sealedOk ? { ok: true, cmd: floor.sealedRunc.path, args: ['--root', E.conex.runcRoot, 'exec', E.conex.containerId, 'true'] }
      : { ok: false, reason: floor.sealedRunc?.ok === false ? floor.sealedRunc.reason : 'conex\'s container not running' })
  floorRow('crun exec (harness container)', 'crun', floor.crun)
  // What-if (hidden-v2.mjs): crun, which refuses this host, run where the host's cgroup2 mount is hidden from it.
  const hidden = floor.crunHidden ?? { ok: false, na: true, reason: 'not set up' }
  if (!hidden.na) add('floor', 'crun exec (harness container), what-if: crun refuses this hybrid host, so it runs where the cgroup2 mount is hidden from it; conex never does this',
    'crun(v2 hidden)', hidden, async () => {
      const r = await hidden.helper.run('crun', hidden.args, { timeoutMs: 30_000 })
      if (r.code !== 0 || r.error) throw new Error(r.error ?? `exit ${r.code}: ${r.stderr.trim()}`)
      return r.ms
    })
  return { cases, close: () => clients.forEach((c) => c.close()) }
}

// A small deterministic generator (mulberry32) and a Fisher-Yates shuffle with it.
function seeded (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffled (items, rng) {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

export async function measureLatency (E, floor, { iterations, warmup }) {
  const { cases, close } = latencyCases(E, floor)
  const active = () => abort.requested ? [] : cases.filter((c) => c.run && !c.broken)
  log(`latency: ${active().length} cases × ${iterations} iterations (+${warmup} warm-up), interleaved`)
  // Each iteration runs the cases in a new order (a fixed seed: every run the same sequence). In one fixed order a
  // case always followed the same other one, and what that one leaves behind (a process exiting, the kernel's
  // cgroup and RCU work) showed as a difference between cases: two runc rows into the same container once differed by
  // 6 ms by their places alone.
  const rng = seeded(0x5eed)
  try {
    for (let i = -warmup; i < iterations && !abort.requested; i++) {
      for (const c of shuffled(active(), rng)) {
        try {
          const ms = await c.run()
          c.consecutive = 0
          if (i >= 0) c.samples.push(ms)
        } catch (e) {
          if (i >= 0) c.failures++
          if (c.errors.length < 5) c.errors.push(e.message.slice(0, 300))
          c.consecutive = (c.consecutive ?? 0) + 1
          if (c.consecutive >= MAX_CONSECUTIVE_FAILURES) {
            c.broken = `stopped after ${MAX_CONSECUTIVE_FAILURES} consecutive failures: ${e.message.slice(0, 200)}`
            log(`latency: ${c.group} / ${c.engine}: ${c.broken}`)
          }
        }
      }
      if (i >= 0 && (i + 1) % 25 === 0) log(`latency: ${i + 1}/${iterations}`)
    }
  } finally { close() }
  return cases.map((c) => ({
    group: c.group, label: c.label, engine: c.engine,
    ...(c.skip ? { unavailable: c.skip } : {}),
    ...(c.broken ? { broken: c.broken } : {}),
    failures: c.failures, errors: c.errors,
    ...summarize(c.samples)
  }))
}

// ------------------------------------------------------------------------------------------ throughput

// The CLI rows run as a user's shell runs them: the CLI between two pipes, with C programs at the other ends (GNU
// `head` writing, GNU `wc -c` counting: each several GB/s here) and its stderr a file or a pipe. A Node harness at
// the ends was the ceiling itself (about 500 MB/s through a pipe), and its child_process stdio are socketpairs,
// which no shell gives (conex hands pipes and files to the process and keeps conmon's attach socket for sockets:
// the "stdio socketpairs" rows). The pipeline's status is the CLI's.
const STDOUT_PIPELINE = 'set -o pipefail; "$@" 2> "$ERRF" | wc -c'
const STDIN_PIPELINE = 'set -o pipefail; head -c "$N" /dev/zero | "$@" 2>&1 | cat'

async function stdoutPipeline (argv, env, bytes, timeoutMs) {
  const errf = path.join(os.tmpdir(), `bench-stderr-${process.pid}-${Date.now()}`)
  try {
    const r = await cliOk('bash', ['-c', STDOUT_PIPELINE, 'bash', ...argv], { env: { ...env, ERRF: errf }, timeoutMs })
    const got = Number(r.stdout.trim())
    if (got !== bytes) throw new Error(`got ${got} stdout bytes, expected ${bytes}`)
    return { bytes, ms: r.ms }
  } finally {
    fs.rmSync(errf, { force: true })
  }
}

// The same pipeline typed at a terminal: the engine's stdout is the pipe to `wc -c`, its stderr (and stdin) a pty,
// as for `conex exec c cmd | grep x` in a shell. Python's pty.spawn runs it under a new pty and relays what the
// terminal shows (dd's summary) to us.
const IN_PTY = 'import os, pty, sys\nsys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))'

async function stdoutAtTerminal (argv, env, bytes, timeoutMs) {
  const outf = path.join(os.tmpdir(), `bench-count-${process.pid}-${Date.now()}`)
  try {
    const r = await cliOk('python3', ['-c', IN_PTY, 'bash', '-c', 'set -o pipefail; "$@" | wc -c > "$OUTF"', 'bash', ...argv], { env: { ...env, OUTF: outf }, timeoutMs })
    const got = Number(fs.readFileSync(outf, 'utf8').trim())
    if (got !== bytes) throw new Error(`got ${got} stdout bytes, expected ${bytes}`)
    return { bytes, ms: r.ms }
  } finally {
    fs.rmSync(outf, { force: true })
  }
}

function throughputCases (E, { stdoutSizes, stdinSize }) {
  const cases = []
  const add = (kind, path, sizeMiB, engine, label, part, fn, variant) => {
    const c = { kind, path, sizeMiB, engine, label, ...(variant ? { variant } : {}), samples: [], failures: 0, errors: [] }
    if (!part.ok) c.skip = unavailable(part.reason); else c.run = fn
    cases.push(c)
  }
  const timeoutFor = (mib) => Math.min(900_000, Math.max(60_000, mib * MiB / 2e6 * 1000)) // ≥ 2 MB/s or fail
  const ddCmd = (mib) => ['dd', 'if=/dev/zero', 'bs=1M', `count=${mib}`]
  const clients = []
  for (const mib of stdoutSizes) {
    const bytes = mib * MiB
    for (const name of ['conex', 'dockerd', 'podman', 'null']) {
      const e = E[name]
      if (!e) continue
      const c = e.api.ok ? new ApiClient(e.sock, '/v1.41') : null
      if (c) clients.push(c)
      add('stdout', 'API', mib, name, name === 'null' ? 'null engine: harness ceiling' : 'in-process client, demuxed', e.api, async () => {
        const r = await c.exec(CONTAINER, ddCmd(mib), { timeoutMs: timeoutFor(mib) })
        if (r.exitCode !== 0) throw new Error(`exit code ${r.exitCode}: ${r.stderr.trim().slice(0, 200)}`)
        if (r.stdoutBytes !== bytes) throw new Error(`got ${r.stdoutBytes} stdout bytes, expected ${bytes}`)
        return { bytes, ms: r.ms }
      })
    }
    for (const name of ['conex', 'dockerd', 'podman']) {
      const e = E[name]
      const [cmd, args, env, part, label] = name === 'dockerd'
        ? ['docker', [], e.dockerCli.env, e.dockerCli, 'docker exec → dockerd']
        : [e.cli.cmd, e.cli.args ?? [], e.cli.env, e.cli, `${name} exec`]
      add('stdout', 'CLI', mib, name, label, part, async () => stdoutPipeline([cmd, ...args, 'exec', CONTAINER, ...ddCmd(mib)], env, bytes, timeoutFor(mib)))
      if (mib === Math.max(...stdoutSizes)) {
        add('stdout', 'CLI', mib, name, `${label} | wc -c, stderr on a terminal`, part, async () => stdoutAtTerminal([cmd, ...args, 'exec', CONTAINER, ...ddCmd(mib)], env, bytes, timeoutFor(mib)), 'terminal')
      }
      if (name === 'conex') {
        add('stdout', 'CLI', mib, name, `${label}, stdio socketpairs (attach socket)`, part, async () => {
          const r = await cliOk(cmd, [...args, 'exec', CONTAINER, ...ddCmd(mib)], { env, countOnly: true, timeoutMs: timeoutFor(mib) })
          if (r.stdoutBytes !== bytes) throw new Error(`got ${r.stdoutBytes} stdout bytes, expected ${bytes}`)
          return { bytes, ms: r.ms }
        })
      }
    }
    add('stdout', 'CLI', mib, 'null', 'host busybox dd, no container: harness ceiling', { ok: true }, async () =>
      stdoutPipeline(['/bin/busybox', ...ddCmd(mib)], process.env, bytes, timeoutFor(mib)))
  }
  const inBytes = stdinSize * MiB
  // The stdin sink must not be the bottleneck: busybox `wc -c` reads ~200 MB/s here, `dd of=/dev/null bs=1M
  // iflag=fullblock` several GB/s. The count is still checked: exactly `stdinSize` full 1 MiB records and no
  // partial one means exactly inBytes arrived before EOF.
  const sinkCmd = ['dd', 'of=/dev/null', 'bs=1M', 'iflag=fullblock']
  const checkSink = (text) => {
    if (!new RegExp(`(^|\\n)${stdinSize}\\+0 records in`).test(text)) {
      throw new Error(`sink did not read exactly ${stdinSize} MiB: ${JSON.stringify(text.trim().slice(0, 200))}`)
    }
  }
  for (const name of ['conex', 'dockerd', 'podman', 'null']) {
    const e = E[name]
    if (!e) continue
    const c = e.api.ok ? new ApiClient(e.sock, '/v1.41') : null
    if (c) clients.push(c)
    add('stdin', 'API', stdinSize, name, name === 'null' ? 'null engine: harness ceiling' : 'in-process client → dd of=/dev/null', e.api, async () => {
      const r = await c.exec(CONTAINER, sinkCmd, { stdinBytes: inBytes, timeoutMs: timeoutFor(stdinSize) })
      if (r.exitCode !== 0) throw new Error(`exit code ${r.exitCode}: ${r.stderr.trim().slice(0, 200)}`)
      checkSink(r.stderr)
      return { bytes: inBytes, ms: r.ms }
    })
  }
  for (const name of ['conex', 'dockerd', 'podman']) {
    const e = E[name]
    const [cmd, args, env, part, label] = name === 'dockerd'
      ? ['docker', [], e.dockerCli.env, e.dockerCli, 'docker exec -i → dockerd']
      : [e.cli.cmd, e.cli.args ?? [], e.cli.env, e.cli, `${name} exec -i`]
    add('stdin', 'CLI', stdinSize, name, label, part, async () => {
      const r = await cliOk('bash', ['-c', STDIN_PIPELINE, 'bash', cmd, ...args, 'exec', '-i', CONTAINER, ...sinkCmd], { env: { ...env, N: String(inBytes) }, timeoutMs: timeoutFor(stdinSize) })
      checkSink(r.stdout)
      return { bytes: inBytes, ms: r.ms }
    })
    if (name === 'conex') {
      add('stdin', 'CLI', stdinSize, name, `${label}, stdio socketpairs (attach socket)`, part, async () => {
        const r = await cliOk(cmd, [...args, 'exec', '-i', CONTAINER, ...sinkCmd], { env, stdinZeros: inBytes, timeoutMs: timeoutFor(stdinSize) })
        checkSink(r.stderr)
        return { bytes: inBytes, ms: r.ms }
      })
    }
  }
  add('stdin', 'CLI', stdinSize, 'null', 'host busybox dd of=/dev/null, no container: harness ceiling', { ok: true }, async () => {
    const r = await cliOk('bash', ['-c', STDIN_PIPELINE, 'bash', '/bin/busybox', ...sinkCmd], { env: { ...process.env, N: String(inBytes) }, timeoutMs: timeoutFor(stdinSize) })
    checkSink(r.stdout)
    return { bytes: inBytes, ms: r.ms }
  })
  return { cases, close: () => clients.forEach((c) => c.close()) }
}

export async function measureThroughput (E, opts) {
  const { cases, close } = throughputCases(E, opts)
  const active = () => abort.requested ? [] : cases.filter((c) => c.run && !c.broken)
  log(`throughput: ${active().length} cases × ${opts.reps} repetitions, interleaved`)
  if (E.null?.api.ok) {
    // warm the client's JIT (demux, stdin pump) on the null engine so the first measured engine is not penalised
    const c = new ApiClient(E.null.sock, '/v1.41')
    try {
      for (let i = 0; i < 3; i++) {
        await c.exec(CONTAINER, ['dd', 'if=/dev/zero', 'bs=1M', 'count=256'], { timeoutMs: 60_000 })
        await c.exec(CONTAINER, ['dd', 'of=/dev/null'], { stdinBytes: 256 * MiB, timeoutMs: 60_000 })
      }
    } catch (e) { log(`throughput warm-up on the null engine failed: ${e.message}`) } finally { c.close() }
  }
  try {
    for (let rep = 0; rep < opts.reps && !abort.requested; rep++) {
      for (const c of active()) {
        try {
          const { bytes, ms } = await c.run()
          c.samples.push(bytes / 1e6 / (ms / 1000))
        } catch (e) {
          c.failures++
          if (c.errors.length < 3) c.errors.push(e.message.slice(0, 300))
          if (c.failures >= 2) c.broken = `stopped after ${c.failures} failures: ${e.message.slice(0, 200)}`
        }
      }
      log(`throughput: repetition ${rep + 1}/${opts.reps} done`)
    }
  } finally { close() }
  return cases.map((c) => {
    const s = summarize(c.samples)
    return {
      kind: c.kind, path: c.path, sizeMiB: c.sizeMiB, engine: c.engine, label: c.label, ...(c.variant ? { variant: c.variant } : {}),
      ...(c.skip ? { unavailable: c.skip } : {}), ...(c.broken ? { broken: c.broken } : {}),
      failures: c.failures, errors: c.errors, n: s.n, medianMBps: s.median, minMBps: s.min, maxMBps: s.max
    }
  })
}

// ------------------------------------------------------------------------------------------ concurrency

async function burst (client, n) {
  const t0 = process.hrtime.bigint()
  const results = await Promise.all(Array.from({ length: n }, () =>
    client.exec(CONTAINER, ['true'], { timeoutMs: 120_000 }).then(
      (r) => r.exitCode === 0 ? { ok: true, ms: r.ms } : { ok: false, err: `exit code ${r.exitCode}` },
      (e) => ({ ok: false, err: e.message }))))
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  return { wallMs, results }
}

// Every API exec podman serves leaves its conmon waiting `exit_command_delay` (300 s) before a `podman container
// cleanup` runs (a Go process of its own, ~0.1-0.3 s of CPU each). So the section runs first (before any podman exec
// of the other sections is pending) and podman's bursts come after every other engine's, all levels; a full run
// then waits for those cleanups to have run before the next section (waitForPodmanCleanups). Seen in session 3's
// full runs: 128-way 1.75× and 1.96× dockerd with ~420 podman cleanups trickling through the section, 2.23× in a
// concurrency-only run. Seen in session 4 without the wait: podman's CLI exec at 338 ms median in the latency
// section (183-231 ms in latency-only runs), its cleanups holding its lock.
export async function measureConcurrency (E, { levels, rounds }) {
  const rows = []
  const per = {}
  const names = ['conex', 'dockerd', 'podman', 'null'].filter((n) => E[n])
  for (const level of levels) {
    per[level] = {}
    for (const name of names) {
      per[level][name] = { engine: name, level, walls: [], rates: [], lat: [], failures: 0, attempts: 0, errors: [] }
      if (!E[name].api.ok) per[level][name].unavailable = unavailable(E[name].api.reason)
    }
  }
  const runRounds = async (level, engines) => {
    for (let r = 0; r < rounds && !abort.requested; r++) {
      for (const name of engines) {
        const p = per[level][name]
        if (p.unavailable || abort.requested) continue
        const client = new ApiClient(E[name].sock, '/v1.41')
        try {
          const { wallMs, results } = await burst(client, level)
          p.walls.push(wallMs)
          p.attempts += level
          const ok = results.filter((x) => x.ok)
          p.rates.push(ok.length / (wallMs / 1000))
          for (const x of ok) p.lat.push(x.ms)
          for (const x of results.filter((y) => !y.ok)) { p.failures++; if (p.errors.length < 3) p.errors.push(x.err.slice(0, 300)) }
        } finally { client.close() }
        await sleep(500) // let the engine settle before the next burst
      }
      log(`concurrency ${level}: round ${r + 1}/${rounds} done (${engines.join(', ')})`)
    }
  }
  const early = names.filter((n) => n !== 'podman')
  for (const level of levels) await runRounds(level, early)
  if (names.includes('podman')) for (const level of levels) await runRounds(level, ['podman'])
  for (const level of levels) {
    for (const name of names) {
      const p = per[level][name]
      const lat = summarize(p.lat)
      rows.push({
        engine: name, level, rounds: p.walls.length, attempts: p.attempts, failures: p.failures, errors: p.errors,
        ...(p.unavailable ? { unavailable: p.unavailable } : {}),
        wallMs: summarize(p.walls).median, execsPerSec: summarize(p.rates).median, p50: lat.median, p99: lat.p99
      })
    }
  }
  return rows
}

// podman's API exec sessions still waiting for their delayed cleanup (see measureConcurrency): a conmon with
// --exit-delay, or the `podman container cleanup` it started, for podman's own state directory.
function pendingPodmanCleanups (e) {
  return listProcesses().filter((p) => p.cmdline.includes(e.scale.stateDir + '/') &&
    ((p.comm === 'conmon' && p.cmdline.includes('--exit-delay')) || (p.comm === 'podman' && / cleanup /.test(p.cmdline)))).length
}

// Waits (at most maxMs) until none is pending, so that the next section does not measure them: the latency section
// has podman's own CLI row, which a storm of its cleanups slows most (they take podman's lock). Returns what it did.
export async function waitForPodmanCleanups (e, maxMs) {
  const t0 = Date.now()
  const first = pendingPodmanCleanups(e)
  let left = first
  let lastLog = 0
  while (left > 0 && Date.now() - t0 < maxMs && !abort.requested) {
    if (Date.now() - lastLog >= 30_000) { log(`waiting for podman's delayed exec cleanups: ${left} processes`); lastLog = Date.now() }
    await sleep(2000)
    left = pendingPodmanCleanups(e)
  }
  return { pendingAtStart: first, pendingAtEnd: left, waitedSec: Math.round((Date.now() - t0) / 1000) }
}

// ------------------------------------------------------------------------------------------ scale

function snapshot (e) {
  const procs = listProcesses()
  const status = procStatus(e.pid)
  const kids = e.pid ? descendants(e.pid, procs) : []
  return {
    rssKiB: status?.rssKiB ?? null,
    fds: status?.fds ?? null,
    threads: status?.threads ?? null,
    conmon: procs.filter((p) => p.comm === 'conmon' && p.cmdline.includes(e.scale.stateDir + '/')).length,
    processesUnderState: procs.filter((p) => p.cmdline.includes(e.scale.stateDir + '/')).length,
    serviceDescendants: kids.length,
    runrootFiles: countFiles(e.scale.runroot),
    mounts: mountsUnder(e.scale.stateDir).length
  }
}

export async function measureScale (E, { count, engines }) {
  const rows = []
  for (const name of engines) {
    const e = E[name]
    if (!e) continue
    if (!e.api.ok) { rows.push({ engine: name, count, unavailable: unavailable(e.api.reason) }); continue }
    log(`scale: ${count} sequential API execs against ${name}`)
    const client = new ApiClient(e.sock, '/v1.41')
    await sleep(1000)
    const before = snapshot(e)
    const lat = []; let failures = 0; const errors = []; let consecutive = 0; let stopped
    const t0 = process.hrtime.bigint()
    try {
      for (let i = 0; i < count && !abort.requested; i++) {
        try {
          const r = await client.exec(CONTAINER, ['true'], { timeoutMs: 60_000 })
          if (r.exitCode !== 0) throw new Error(`exit code ${r.exitCode}`)
          lat.push(r.ms); consecutive = 0
        } catch (err) {
          failures++; consecutive++
          if (errors.length < 3) errors.push(err.message.slice(0, 300))
          if (consecutive >= 20) { stopped = `stopped at ${i + 1}/${count} after 20 consecutive failures`; break }
        }
        if ((i + 1) % 1000 === 0) log(`scale ${name}: ${i + 1}/${count}`)
      }
    } finally { client.close() }
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
    const immediately = snapshot(e)
    await sleep(3000)
    const after = snapshot(e)
    const s = summarize(lat)
    rows.push({
      engine: name, count, done: lat.length + failures, failures, errors, ...(stopped ? { stopped } : {}),
      wallMs, execsPerSec: lat.length / (wallMs / 1000), p50: s.median, p99: s.p99,
      before, immediately, after
    })
  }
  return rows
}
