// The soak scenarios, sized by the caller: test/reliability/soak-short.test.ts runs them small in the normal suite,
// test/soak/soak.ts (npm run soak) runs them at full size. Each scenario counts checks passed and failed and keeps
// the first failure messages; nothing here throws on a failed check, so one run reports every problem it meets.
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { CONEX_BIN, runProgram, type Store } from '../helpers'
import { api, apiExec, census, expectedPattern, fdCount, firstDifference, hijackStart, patternCommand, rssKiB, sessionCounts, sleep, type Service } from '../reliability/lib'

export class Tally {
  passed = 0
  failed = 0
  bytesChecked = 0
  readonly failures: string[] = []

  check (ok: boolean, what: string): boolean {
    if (ok) this.passed++
    else {
      this.failed++
      if (this.failures.length < 50) this.failures.push(what)
    }
    return ok
  }
}

// Runs fn(0..n-1) with at most `concurrency` in flight.
export async function pool (n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++
      await fn(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker))
}

// A 7-character token unique to one exec of one run.
export const token = (prefix: string, i: number): string => (prefix + i.toString(36).padStart(6, '0')).slice(-7)

const describe = (got: Buffer, want: Buffer): string => {
  const at = firstDifference(got, want)
  return `${got.length}/${want.length} bytes, first difference at ${at}: got ${JSON.stringify(got.subarray(at, at + 20).toString('latin1'))}`
}

// How a CLI's stdio are set up: Node's socketpairs (the CLI copies through conmon's attach socket), a shell pipeline
// (`conex exec … 2>&1 | cat`: a pipe it hands to the process) or a socket for stdout beside /dev/null for stderr (it
// hands stderr over and copies stdout through a pipe of its own). docs/attach.md.
export type CliStdio = 'attach' | 'handover' | 'copy'

// n execs through the CLI, each printing `bytes` bytes of the numbered pattern; every byte compared.
export async function cliOutput (t: Tally, store: Store, container: string, n: number, bytes: number, concurrency: number, via: CliStdio = 'attach'): Promise<void> {
  const want = new Map<number, Buffer>()
  const what = { attach: 'cli exec', handover: 'piped cli exec', copy: 'copying cli exec' }[via]
  await pool(n, concurrency, async (i) => {
    const tok = token({ attach: 'c', handover: 'p', copy: 'k' }[via], i)
    try {
      const argv = [...store.flags, 'exec', container, ...patternCommand(tok, bytes)]
      const r = via === 'handover'
        ? await runProgram('bash', ['-c', 'set -o pipefail; "$@" 2>&1 | cat', 'bash', CONEX_BIN, ...argv], { timeoutMs: 120_000 })
        : await runProgram(CONEX_BIN, argv, { timeoutMs: 120_000, ...(via === 'copy' ? { stdio: ['ignore', 'pipe', 'ignore'] } : {}) })
      const exp = want.get(i) ?? expectedPattern(tok, bytes)
      t.check(r.code === 0, `${what} ${i}: exit ${r.code} ${r.stderr.trim()}`)
      if (t.check(r.stdout.equals(exp), `${what} ${i}: output differs: ${describe(r.stdout, exp)}`)) t.bytesChecked += bytes
    } catch (err) { t.check(false, `${what} ${i}: ${(err as Error).message}`) }
  })
}

// n execs through the API (create, hijacked start, inspect), as cliOutput.
export async function apiOutput (t: Tally, svc: Service, container: string, n: number, bytes: number, concurrency: number): Promise<void> {
  await pool(n, concurrency, async (i) => {
    const tok = token('a', i)
    try {
      const r = await apiExec(svc.sock, container, { Cmd: patternCommand(tok, bytes) })
      const exp = expectedPattern(tok, bytes)
      t.check(r.status === 101 && !r.badFrames, `api exec ${i}: status ${r.status}, bad frames ${r.badFrames}`)
      t.check(r.exitCode === 0 && !r.running, `api exec ${i}: inspect says exit ${r.exitCode}, running ${r.running}`)
      if (t.check(r.stdout.equals(exp), `api exec ${i}: output differs: ${describe(r.stdout, exp)}`)) t.bytesChecked += bytes
    } catch (err) { t.check(false, `api exec ${i}: ${(err as Error).message}`) }
  })
}

// `bytes` of random data through `exec -i CONTAINER cat` (CLI) and the API's hijacked stdin: what comes back must
// hash the same as what went in.
export async function stdinRoundTrip (t: Tally, store: Store, svc: Service | undefined, container: string, bytes: number): Promise<void> {
  const chunk = 1024 * 1024
  const source = async function * (hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < bytes; sent += chunk) {
      const b = randomBytes(Math.min(chunk, bytes - sent))
      hash.update(b)
      yield b
    }
  }
  // CLI
  {
    const inHash = createHash('sha256')
    const outHash = createHash('sha256')
    let outBytes = 0
    const child = spawn(CONEX_BIN, [...store.flags, 'exec', '-i', container, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { outHash.update(d); outBytes += d.length })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
    child.stdin.on('error', () => undefined)
    for await (const b of source(inHash)) {
      if (!child.stdin.write(b)) await new Promise((resolve) => child.stdin.once('drain', resolve))
    }
    child.stdin.end()
    const code = await done
    const a = inHash.digest('hex')
    const b = outHash.digest('hex')
    t.check(code === 0, `exec -i cat (cli): exit ${code} ${stderr.trim()}`)
    if (t.check(a === b && outBytes === bytes, `exec -i cat (cli): sent ${bytes} bytes sha256 ${a}, got ${outBytes} bytes sha256 ${b}`)) t.bytesChecked += bytes
  }
  if (svc === undefined) return
  // API
  {
    const inHash = createHash('sha256')
    const outHash = createHash('sha256')
    let outBytes = 0
    const c = await api(svc.sock, 'POST', `/v1.44/containers/${container}/exec`, { AttachStdin: true, AttachStdout: true, AttachStderr: true, Cmd: ['cat'] })
    if (!t.check(c.status === 201, `api exec -i create: ${c.status} ${c.body}`)) return
    const id = c.json().Id as string
    const r = await hijackStart(svc.sock, id, { stdin: source(inHash), onStdout: (d) => { outHash.update(d); outBytes += d.length }, timeoutMs: 600_000 })
    const i = (await api(svc.sock, 'GET', `/v1.44/exec/${id}/json`)).json()
    const a = inHash.digest('hex')
    const b = outHash.digest('hex')
    t.check(r.status === 101 && i.ExitCode === 0, `api exec -i cat: status ${r.status}, exit ${i.ExitCode as number}`)
    if (t.check(a === b && outBytes === bytes, `api exec -i cat: sent ${bytes} bytes sha256 ${a}, got ${outBytes} bytes sha256 ${b}`)) t.bytesChecked += bytes
  }
}

export type MixedKind = 'ok' | 'exit3' | 'notfound' | 'signal' | 'detached' | 'timeout' | 'stopped'

// The mix: mostly quick kinds; timeouts take a second, stops a container of their own.
const WEIGHTS: Array<[MixedKind, number]> = [['ok', 30], ['exit3', 20], ['notfound', 15], ['signal', 15], ['detached', 12], ['timeout', 5], ['stopped', 3]]

export function kindOf (i: number): MixedKind {
  const total = WEIGHTS.reduce((a, [, w]) => a + w, 0)
  // A fixed stride through the weights: every kind appears early, the proportions hold over any long run.
  let x = (i * 37) % total
  for (const [k, w] of WEIGHTS) { if (x < w) return k; x -= w }
  return 'ok'
}

// Waits until an exec session has ended and returns its inspected exit code (through the API when there is one).
async function endedExitCode (store: Store, svc: Service | undefined, id: string, ms = 30_000): Promise<number | null | string> {
  const deadline = Date.now() + ms
  for (;;) {
    let running = true
    let code: number | null = null
    if (svc !== undefined) {
      const r = await api(svc.sock, 'GET', `/v1.44/exec/${id}/json`)
      if (r.status !== 200) return `inspect ${r.status} ${r.body.trim()}`
      const j = r.json()
      running = j.Running === true
      code = j.ExitCode
    } else {
      const r = await store.conex(['exec', 'inspect', '--format', '{{.Running}} {{.ExitCode}}', id])
      if (r.code !== 0) return `inspect: ${r.stderr.trim()}`
      const [a, b] = r.out.trim().split(' ')
      running = a === 'true'
      code = b === '<nil>' ? null : Number(b)
    }
    if (!running) return code
    if (Date.now() > deadline) return `still running after ${ms} ms`
    await sleep(100)
  }
}

// One exec of kind `k`, through the CLI (even i) or the API (odd i, where the API has the feature).
async function mixedOne (t: Tally, store: Store, svc: Service | undefined, containers: string[], i: number, k: MixedKind): Promise<void> {
  const c = containers[i % containers.length]
  // One in four through the CLI (a node process each: the expensive path on a small host), the rest through the API;
  // --timeout only exists in the CLI.
  const viaApi = svc !== undefined && i % 4 !== 0 && k !== 'timeout'
  const tag = `mixed ${i} (${k}, ${viaApi ? 'api' : 'cli'})`
  const tok = token('m', i)
  const run = async (cmd: string[], o: { user?: string } = {}): Promise<{ code: number | null, out: string, err: string }> => {
    if (viaApi) {
      const r = await apiExec((svc as Service).sock, c, { Cmd: cmd, ...(o.user !== undefined ? { User: o.user } : {}) })
      return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() }
    }
    const r = await store.conex(['exec', c, ...cmd])
    return { code: r.code, out: r.out, err: r.stderr }
  }
  switch (k) {
    case 'ok': {
      const r = await run(['echo', tok])
      t.check(r.code === 0 && r.out === `${tok}\n`, `${tag}: exit ${r.code}, out ${JSON.stringify(r.out)}`)
      return
    }
    case 'exit3': {
      const r = await run(['sh', '-c', `echo out${tok}; echo err${tok} >&2; exit 3`])
      t.check(r.code === 3 && r.out === `out${tok}\n` && r.err === `err${tok}\n`, `${tag}: exit ${r.code}, out ${JSON.stringify(r.out)}, err ${JSON.stringify(r.err)}`)
      return
    }
    case 'notfound': {
      const r = await run([`/no/such/${tok}`])
      t.check(r.code === 127, `${tag}: exit ${r.code} (want 127), err ${JSON.stringify(r.err.slice(0, 200))}`)
      return
    }
    case 'signal': {
      const r = await run(['sh', '-c', 'kill -9 $$'])
      t.check(r.code === 137, `${tag}: exit ${r.code} (want 137)`)
      return
    }
    case 'detached': {
      let id: string
      if (viaApi) {
        const cr = await api((svc as Service).sock, 'POST', `/v1.44/containers/${c}/exec`, { Cmd: ['sh', '-c', 'sleep 0.2; exit 5'] })
        if (!t.check(cr.status === 201, `${tag}: create ${cr.status}`)) return
        id = cr.json().Id
        const st = await api((svc as Service).sock, 'POST', `/v1.44/exec/${id}/start`, { Detach: true })
        if (!t.check(st.status === 200, `${tag}: start ${st.status} ${st.body}`)) return
      } else {
        const r = await store.conex(['exec', '-d', c, 'sh', '-c', 'sleep 0.2; exit 5'])
        if (!t.check(r.code === 0 && /^[0-9a-f]{64}\n$/.test(r.out), `${tag}: exit ${r.code}, out ${JSON.stringify(r.out)} ${r.stderr}`)) return
        id = r.out.trim()
      }
      const code = await endedExitCode(store, svc, id)
      t.check(code === 5, `${tag}: detached session ended with ${String(code)} (want 5)`)
      return
    }
    case 'timeout': {
      const r = await store.conex(['exec', '--timeout', '1', c, 'sleep', '30'])
      t.check(r.code === 124, `${tag}: exit ${r.code} (want 124) ${r.stderr.trim()}`)
      return
    }
    case 'stopped': {
      // A container of its own, two attached execs (CLI and API), then `conex stop -t 0` mid-way: both end with 137.
      const name = `soak-stop-${process.pid}-${i}`
      if (svc !== undefined) {
        const cr = await api(svc.sock, 'POST', `/v1.44/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['sleep', '1000'] })
        if (!t.check(cr.status === 201, `${tag}: create: ${cr.status} ${cr.body}`)) return
        const st = await api(svc.sock, 'POST', `/v1.44/containers/${name}/start`)
        if (!t.check(st.status === 204, `${tag}: start: ${st.status} ${st.body}`)) return
      } else {
        const cr = await store.conex(['run', '-d', '--name', name, 'busybox', 'sleep', '1000'])
        if (!t.check(cr.code === 0, `${tag}: run: ${cr.stderr.trim()}`)) return
      }
      try {
        const body = ['sh', '-c', 'echo started; exec sleep 60']
        const cli = cliUntilOutput(store, ['exec', name, ...body], 'started\n')
        let apiStarted: () => void = () => undefined
        const apiReady = new Promise<void>((resolve) => { apiStarted = resolve })
        const viaService = svc !== undefined ? apiExec(svc.sock, name, { Cmd: body }, { timeoutMs: 60_000, onStdout: (d) => { if (d.includes('started')) apiStarted() } }) : undefined
        if (viaService === undefined) apiStarted()
        await Promise.race([Promise.all([cli.started, apiReady]), sleep(30_000)])
        const stop = await store.conex(['stop', '-t', '0', name])
        const stoppedAt = Date.now()
        t.check(stop.code === 0, `${tag}: stop: exit ${stop.code} ${stop.stderr.trim()}`)
        const r1 = await cli.done
        t.check(r1.code === 137 && r1.out === 'started\n', `${tag}: cli exec after stop: exit ${r1.code} (want 137), out ${JSON.stringify(r1.out)}`)
        if (viaService !== undefined) {
          const r2 = await viaService
          t.check(r2.exitCode === 137, `${tag}: api exec after stop: exit ${r2.exitCode} (want 137)`)
        }
        t.check(Date.now() - stoppedAt < 15_000, `${tag}: the attached clients took ${Date.now() - stoppedAt} ms to see the stop`)
      } finally {
        if (svc !== undefined) {
          const rm = await api(svc.sock, 'DELETE', `/v1.44/containers/${name}?force=1`)
          t.check(rm.status === 204, `${tag}: rm: ${rm.status} ${rm.body}`)
        } else {
          const rm = await store.conex(['rm', '-f', name])
          t.check(rm.code === 0, `${tag}: rm: ${rm.stderr.trim()}`)
        }
      }
    }
  }
}

// Runs the CLI; `started` resolves once stdout contains `marker` (the process is running), `done` at exit.
function cliUntilOutput (store: Store, args: string[], marker: string): { started: Promise<void>, done: Promise<{ code: number | null, out: string }> } {
  const child = spawn(CONEX_BIN, [...store.flags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let started: () => void = () => undefined
  const startedP = new Promise<void>((resolve) => { started = resolve })
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes(marker)) started() })
  child.stderr.resume()
  const done = new Promise<{ code: number | null, out: string }>((resolve) => child.on('close', (code) => { started(); resolve({ code, out }) }))
  return { started: startedP, done }
}

// n execs of mixed kinds, `concurrency` at a time, spread over `containers`.
export async function mixed (t: Tally, store: Store, svc: Service | undefined, containers: string[], n: number, concurrency: number, onProgress?: (done: number) => void): Promise<Record<MixedKind, number>> {
  const counts: Record<MixedKind, number> = { ok: 0, exit3: 0, notfound: 0, signal: 0, detached: 0, timeout: 0, stopped: 0 }
  let done = 0
  await pool(n, concurrency, async (i) => {
    const k = kindOf(i)
    counts[k]++
    try { await mixedOne(t, store, svc, containers, i, k) } catch (err) { t.check(false, `mixed ${i} (${k}): ${(err as Error).message}`) }
    done++
    if (onProgress !== undefined && done % 100 === 0) onProgress(done)
  })
  return counts
}

export interface Baseline { fds: number, rss: number }

// The service's fd count and RSS after a warm-up (first execs load node-unix-socket, compile the routes...).
export function baseline (svc: Service): Baseline { return { fds: fdCount(svc.pid), rss: rssKiB(svc.pid) } }

export interface LeakReport { fdsBefore: number, fdsAfter: number, rssBeforeKiB: number, rssAfterKiB: number, conmons: number, execBundles: number, mounts: number, maxStopped: number, running: number }

// After the load: nothing of the sessions may remain; the service's fds and memory are back to (near) where they were.
export async function leakCheck (t: Tally, store: Store, svc: Service | undefined, base: Baseline | undefined, running: string[], o: { rssGrowthKiB?: number, retention?: number } = {}): Promise<LeakReport> {
  // Detached sessions end on their own; give conmon's exit commands a moment.
  const deadline = Date.now() + 30_000
  let c = census(store, running)
  while ((c.conmons.length > 0 || c.execBundles.length > 0) && Date.now() < deadline) { await sleep(250); c = census(store, running) }
  t.check(c.conmons.length === 0, `exec conmon processes left: ${c.conmons.join(' ')}`)
  t.check(c.execBundles.length === 0, `exec bundles left: ${c.execBundles.length} (${c.execBundles.slice(0, 3).join(' ')})`)
  // Mounts of the containers that are meant to run stay (the census is by id, the callers know names).
  const ids = running.length === 0 ? [] : (await store.conex(['inspect', '--format', '{{.Id}}', ...running])).out.split('\n').filter((l) => l !== '')
  const left = census(store, ids).mounts
  t.check(left.length === 0, `mounts left: ${left.join(' ')}`)
  const retention = o.retention ?? 100
  // Sessions that ended within exec_retention_grace_seconds (30) may exceed the count bound; after it, the service's
  // sweep or the next CLI command (the `ps` here) prunes them.
  let counts = sessionCounts(store)
  const retentionDeadline = Date.now() + 45_000
  while ((counts['max:stopped'] ?? 0) > retention && Date.now() < retentionDeadline) {
    await sleep(1000)
    await store.conex(['ps', '-q'])
    counts = sessionCounts(store)
  }
  t.check((counts['max:stopped'] ?? 0) <= retention, `ended sessions of one container: ${counts['max:stopped'] ?? 0} > retention ${retention}`)
  t.check((counts.running ?? 0) === 0, `sessions still marked running: ${counts.running ?? 0}`)
  let fdsAfter = 0
  let rssAfter = 0
  if (svc !== undefined && base !== undefined) {
    // Sockets of the last requests close asynchronously; let them.
    const fdDeadline = Date.now() + 10_000
    fdsAfter = fdCount(svc.pid)
    while (fdsAfter > base.fds && Date.now() < fdDeadline) { await sleep(200); fdsAfter = fdCount(svc.pid) }
    rssAfter = rssKiB(svc.pid)
    t.check(fdsAfter <= base.fds, `service fds: ${base.fds} before, ${fdsAfter} after`)
    t.check(rssAfter - base.rss <= (o.rssGrowthKiB ?? 40 * 1024), `service RSS grew ${((rssAfter - base.rss) / 1024).toFixed(1)} MiB (${base.rss} KiB → ${rssAfter} KiB)`)
  }
  return { fdsBefore: base?.fds ?? 0, fdsAfter, rssBeforeKiB: base?.rss ?? 0, rssAfterKiB: rssAfter, conmons: c.conmons.length, execBundles: c.execBundles.length, mounts: left.length, maxStopped: counts['max:stopped'] ?? 0, running: counts.running ?? 0 }
}

// Starts `n` long-running worker containers; returns their names.
export async function startWorkers (store: Store, n: number, prefix = 'soak'): Promise<string[]> {
  const names: string[] = []
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`
    const r = await runProgram(CONEX_BIN, [...store.flags, 'run', '-d', '--name', name, 'busybox', 'sleep', '100000'])
    if (r.code !== 0) throw new Error(`conex run ${name}: ${r.stderr}`)
    names.push(name)
  }
  return names
}
