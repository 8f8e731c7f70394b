// Small helpers shared by the benchmark harness: bounded child processes, /proc readers, statistics.
// Node built-ins only; nothing here knows about a particular engine.
import { spawn, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** Set on SIGINT/SIGTERM: measurement loops stop at their next step while the harness tears down. */
export const abort = { requested: false }

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export function log (...parts) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${parts.join(' ')}\n`)
}

const ZERO_CHUNK = Buffer.alloc(1 << 20)

/** Writes `total` zero bytes to a writable stream, honouring backpressure; resolves when all are queued. */
export async function pumpZeros (stream, total) {
  let left = total
  while (left > 0) {
    if (stream.destroyed || stream.writableEnded) throw new Error('stdin closed early')
    const n = Math.min(left, ZERO_CHUNK.length)
    const ok = stream.write(n === ZERO_CHUNK.length ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, n))
    left -= n
    if (!ok) {
      await new Promise((resolve, reject) => {
        const done = () => { stream.off('drain', done); stream.off('close', fail); stream.off('error', fail); resolve() }
        const fail = (e) => { stream.off('drain', done); stream.off('close', fail); stream.off('error', fail); reject(e ?? new Error('stdin closed early')) }
        stream.on('drain', done); stream.on('close', fail); stream.on('error', fail)
      })
    }
  }
}

/**
 * Runs a command with a hard timeout (SIGKILL). Never rejects.
 * opts.countOnly: count stdout bytes instead of keeping them. opts.stdinZeros: stream that many zero bytes to stdin.
 * opts.outFile: send stdout+stderr to that file instead of pipes (for commands that hand their stdio to a
 * long-lived process, e.g. `runc run -d`); its new content comes back as `stdout`.
 */
export function run (cmd, args, opts = {}) {
  if (opts.outFile) return runToFile(cmd, args, opts)
  const { env, cwd, input, timeoutMs = 60_000, countOnly = false, stdinZeros = 0, maxKeep = 1 << 20, shellPipes = false } = opts
  return new Promise((resolve) => {
    let t0 = process.hrtime.bigint()
    let child
    let io
    try {
      // Made before the clock starts: three `mkfifo` runs are not the engine's time.
      io = shellPipes ? fifoStdio() : undefined
      t0 = process.hrtime.bigint()
      child = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: io?.child ?? ['pipe', 'pipe', 'pipe'] })
    } catch (e) {
      io?.close()
      resolve({ code: -1, signal: null, ms: 0, stdout: '', stderr: '', stdoutBytes: 0, timedOut: false, error: e.message })
      return
    }
    io?.closeChildEnds()
    const [stdin, stdout, stderr] = io?.ours ?? [child.stdin, child.stdout, child.stderr]
    const out = []; let kept = 0; let stdoutBytes = 0
    const err = []; let errKept = 0
    let timedOut = false; let spawnError; let stdinError
    stdout.on('data', (d) => {
      stdoutBytes += d.length
      if (!countOnly && kept < maxKeep) { out.push(d); kept += d.length }
    })
    stderr.on('data', (d) => { if (errKept < 65536) { err.push(d); errKept += d.length } })
    stdin.on('error', (e) => { stdinError = e })
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, timeoutMs)
    child.on('error', (e) => { spawnError = e })
    let settled = false; let exitInfo
    // a grandchild that keeps our pipes open must not keep us waiting forever once the child itself is gone
    child.on('exit', (code, signal) => {
      exitInfo = [code, signal]
      setTimeout(() => { if (!settled) { stdout.destroy(); stderr.destroy(); finish(code, signal) } }, 2000).unref()
    })
    // With our own pipes, 'close' is the child's exit alone: the end is both pipes' EOF after it.
    const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve([code, signal])))
    const closed = io === undefined ? exited : Promise.all([exited, ended(stdout), ended(stderr)]).then(([x]) => x)
    void closed.then(([code, signal]) => finish(code ?? exitInfo?.[0], signal ?? exitInfo?.[1]))
    const finish = (code, signal) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      io?.close()
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      resolve({
        code: code ?? -1,
        signal,
        ms,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        stdoutBytes,
        timedOut,
        error: spawnError?.message ?? (timedOut ? `timed out after ${timeoutMs} ms` : stdinError ? `stdin: ${stdinError.message}` : undefined)
      })
    }
    if (input !== undefined) stdin.end(input)
    else if (stdinZeros > 0) pumpZeros(stdin, stdinZeros).then(() => stdin.end(), (e) => { stdinError = e })
    else stdin.end()
  })
}

const ended = (stream) => new Promise((resolve) => { stream.once('close', resolve); stream.once('end', resolve) })

let fifoSeq = 0

/**
 * The child's stdin, stdout and stderr as a shell's pipeline gives them: pipes (FIFOs, unlinked once open). Node's
 * child_process gives socketpairs, which no shell does, and `conex exec` hands only pipes and files to the process
 * itself (on a socket, opening /dev/stdout fails); docker and podman copy either alike.
 */
function fifoStdio () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-fifo-${process.pid}-${fifoSeq++}-`))
  const mk = (name) => { const p = path.join(dir, name); execFileSync('mkfifo', [p]); return p }
  const C = fs.constants
  const opened = []
  const open = (p, flags) => { const fd = fs.openSync(p, flags); opened.push(fd); return fd }
  try {
    const pin = mk('in'); const pout = mk('out'); const perr = mk('err')
    // Ours first where an open would block: O_RDWR for stdin (the child's O_RDONLY then finds a writer; the child
    // sees EOF once ours is closed), O_NONBLOCK for the outputs' read ends. The child's ends are plain blocking fds.
    const inOurs = open(pin, C.O_RDWR); const inChild = open(pin, C.O_RDONLY)
    const outOurs = open(pout, C.O_RDONLY | C.O_NONBLOCK); const outChild = open(pout, C.O_WRONLY)
    const errOurs = open(perr, C.O_RDONLY | C.O_NONBLOCK); const errChild = open(perr, C.O_WRONLY)
    fs.rmSync(dir, { recursive: true, force: true })
    const ours = [
      new net.Socket({ fd: inOurs, readable: false, writable: true }),
      new net.Socket({ fd: outOurs, readable: true, writable: false }),
      new net.Socket({ fd: errOurs, readable: true, writable: false }),
    ]
    let childOpen = true
    const closeChildEnds = () => { if (childOpen) { childOpen = false; for (const fd of [inChild, outChild, errChild]) fs.closeSync(fd) } }
    return { child: [inChild, outChild, errChild], ours, closeChildEnds, close: () => { closeChildEnds(); for (const s of ours) s.destroy() } }
  } catch (e) {
    for (const fd of opened) { try { fs.closeSync(fd) } catch {} }
    fs.rmSync(dir, { recursive: true, force: true })
    throw e
  }
}

function runToFile (cmd, args, { env, cwd, timeoutMs = 60_000, outFile }) {
  return new Promise((resolve) => {
    const start = fs.existsSync(outFile) ? fs.statSync(outFile).size : 0
    const fd = fs.openSync(outFile, 'a')
    const t0 = process.hrtime.bigint()
    let child
    try {
      child = spawn(cmd, args, { env: env ?? process.env, cwd, stdio: ['ignore', fd, fd] })
    } catch (e) {
      fs.closeSync(fd)
      resolve({ code: -1, signal: null, ms: 0, stdout: '', stderr: '', stdoutBytes: 0, timedOut: false, error: e.message })
      return
    }
    fs.closeSync(fd)
    let timedOut = false; let spawnError; let settled = false
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, timeoutMs)
    child.on('error', (e) => {
      spawnError = e
      if (child.pid === undefined && !settled) {
        settled = true; clearTimeout(timer)
        resolve({ code: -1, signal: null, ms: 0, stdout: '', stderr: '', stdoutBytes: 0, timedOut: false, error: e.message })
      }
    })
    child.on('exit', (code, signal) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      let text = ''
      try { text = fs.readFileSync(outFile).subarray(start).toString() } catch {}
      resolve({ code: code ?? -1, signal, ms, stdout: text, stderr: '', stdoutBytes: text.length, timedOut, error: spawnError?.message ?? (timedOut ? `timed out after ${timeoutMs} ms` : undefined) })
    })
  })
}

/** One-line description of a failed run() for reports. */
export function describeFailure (r) {
  if (r.error) return r.error
  const msg = (r.stderr || r.stdout || '').trim().split('\n').filter(Boolean).slice(-2).join(' | ')
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${msg ? `: ${msg.slice(0, 300)}` : ''}`
}

export function pidAlive (pid) {
  if (!pid) return false
  try { process.kill(pid, 0) } catch { return false }
  // a zombie still answers kill(0); treat it as gone
  try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) } catch { return false }
}

/** SIGTERM a pid, wait up to graceMs, then SIGKILL. */
export async function stopPid (pid, graceMs = 10_000) {
  if (!pidAlive(pid)) return
  try { process.kill(pid, 'SIGTERM') } catch { return }
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && pidAlive(pid)) await sleep(100)
  if (pidAlive(pid)) { try { process.kill(pid, 'SIGKILL') } catch {} }
  const hard = Date.now() + 5000
  while (Date.now() < hard && pidAlive(pid)) await sleep(50)
}

/** All processes: [{pid, ppid, comm, cmdline}]. */
export function listProcesses () {
  const procs = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      const comm = stat.slice(stat.indexOf('(') + 1, close)
      const rest = stat.slice(close + 2).split(' ')
      if (rest[0] === 'Z') continue
      const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim()
      procs.push({ pid: Number(name), ppid: Number(rest[1]), comm, cmdline })
    } catch {}
  }
  return procs
}

export function descendants (rootPid, procs = listProcesses()) {
  const children = new Map()
  for (const p of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, [])
    children.get(p.ppid).push(p)
  }
  const outList = []; const stack = [rootPid]; let guard = 0
  while (stack.length > 0 && guard++ < 100_000) {
    for (const c of children.get(stack.pop()) ?? []) { outList.push(c); stack.push(c.pid) }
  }
  return outList
}

export function procStatus (pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (k) => { const m = s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')); return m ? Number(m[1]) : null }
    let fds = null
    try { fds = fs.readdirSync(`/proc/${pid}/fd`).length } catch {}
    return { rssKiB: kb('VmRSS'), threads: kb('Threads'), fds }
  } catch { return null }
}

/** Mount points (from our mount namespace) at or below dir. */
export function mountsUnder (dir) {
  const res = []
  let text = ''
  try { text = fs.readFileSync('/proc/self/mountinfo', 'utf8') } catch { return res }
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    if (f.length < 5) continue
    const mp = f[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)))
    if (mp === dir || mp.startsWith(dir + '/')) res.push(mp)
  }
  return res
}

/** Counts filesystem entries below dir without following symlinks or crossing into mount points (bounded). */
export function countFiles (dir, limit = 1_000_000) {
  let n = 0
  const stack = [dir]
  while (stack.length > 0 && n < limit) {
    const d = stack.pop()
    let entries
    try { entries = fs.readdirSync(d, { withFileTypes: true }) } catch { continue }
    for (const e of entries) {
      n++
      if (e.isDirectory()) stack.push(path.join(d, e.name))
    }
  }
  return n
}

// ---- statistics ----

export function summarize (samples) {
  const s = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return { n: 0, median: null, p99: null, mean: null, min: null, max: null }
  const median = n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
  const p99 = s[Math.min(n - 1, Math.ceil(0.99 * n) - 1)]
  const mean = s.reduce((a, b) => a + b, 0) / n
  return { n, median, p99, mean, min: s[0], max: s[n - 1] }
}

export function fmt (x, digits = 1) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–'
  if (Math.abs(x) >= 1000) return x.toFixed(0)
  return x.toFixed(digits)
}
