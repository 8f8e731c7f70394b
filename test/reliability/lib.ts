// Shared by the reliability tests and the soak runner: a conex API service under test (started, measured, killed),
// a minimal HTTP client over its unix socket (exec create, hijacked start with stdcopy demux, inspect), the
// exact-output pattern every exec prints, and the leak census (conmon processes, exec bundles, mounts, fds, RSS).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { request } from 'node:http'
import { join } from 'node:path'
import { CONEX_BIN, conmonsFor, mountsUnder, type Store } from '../helpers'

// ---------------------------------------------------------------------------------------------------------------
// The service

export interface Service {
  pid: number
  sock: string
  child: ChildProcess
  /** Everything the service wrote on stdout and stderr so far. */
  log: () => string
  /** SIGTERM, wait for exit. */
  stop: () => Promise<void>
  /** SIGKILL, wait for exit. */
  kill: () => Promise<void>
  exited: Promise<number | null>
}

// Starts `conex system service --time 0 unix://<sock>` on `store` and waits until it listens.
// With `uri` (tcp://...), serves there instead of a unix socket (`sock` is then unused).
export async function startService (store: Store, o: { sock?: string, uri?: string, args?: string[], env?: NodeJS.ProcessEnv } = {}): Promise<Service> {
  const sock = o.sock ?? join(store.runroot, '..', `api-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`)
  const child = spawn(CONEX_BIN, [...store.flags, 'system', 'service', '--time', '0', ...(o.args ?? []), o.uri ?? `unix://${sock}`], {
    env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout?.on('data', (d: Buffer) => { log += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { log += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const deadline = Date.now() + 30_000
  while (!log.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`service did not start: ${log}`)
    await sleep(50)
  }
  const pid = child.pid as number
  const end = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig)
    await Promise.race([exited, sleep(15_000)])
  }
  return { pid, sock, child, log: () => log, stop: () => end('SIGTERM'), kill: () => end('SIGKILL'), exited }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// Open file descriptors of a process.
// Open fds of a process, without the event loop's own inotify instance: libuv creates one, lazily, on the first
// fs.watch (the exit-file wait) and keeps it for the life of the loop, so it appears once and is not a leak.
export function fdCount (pid: number): number {
  let n = 0
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = ''
    try { target = readlinkSync(`/proc/${pid}/fd/${fd}`) } catch { continue }
    if (target !== 'anon_inode:inotify') n++
  }
  return n
}

// Resident memory of a process in KiB (VmRSS).
export function rssKiB (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1])
}

// Waits until `f()` is true (polling), or throws with `what` after `ms`.
export async function until (f: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(50)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP over the unix socket

export interface HttpReply { status: number, body: string, json: () => any }

// One request on a fresh connection (Connection: close, so the service's fd count is not inflated by keep-alive).
export function api (sock: string, method: string, path: string, body?: unknown, o: { rawBody?: Buffer | string, headers?: Record<string, string>, timeoutMs?: number } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const data = o.rawBody !== undefined ? Buffer.from(o.rawBody) : body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const req = request({
      socketPath: sock, method, path, agent: false,
      headers: { Host: 'conex', Connection: 'close', ...(data !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}), ...o.headers },
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) })
      })
      res.on('error', reject)
    })
    req.setTimeout(o.timeoutMs ?? 60_000, () => req.destroy(new Error(`${method} ${path} timed out`)))
    req.on('error', reject)
    req.end(data)
  })
}

// Writes `data` (a whole request, possibly huge) on a fresh connection and reads until the service closes; write
// errors are ignored (a service may answer 413 and close before the client is done). Returns status and body.
export function rawExchange (sock: string, data: Buffer | string, timeoutMs = 60_000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const s = connect(sock, () => { s.write(data); s.end() })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no answer')) }, timeoutMs)
    s.on('data', (d: Buffer) => chunks.push(d))
    s.on('error', () => undefined)
    // The reply is complete at the service's FIN; our own write side may still be stuck behind a body it refused.
    s.on('end', () => s.destroy())
    s.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString()
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0)
      const i = text.indexOf('\r\n\r\n')
      const body = i === -1 ? '' : text.slice(i + 4)
      resolve({ status, body, json: () => JSON.parse(body) })
    })
  })
}

export interface HijackResult {
  status: number
  /** Demultiplexed output (unless onStdout took it). */
  stdout: Buffer
  stderr: Buffer
  /** The raw bytes after the head could not be parsed as frames. */
  badFrames: boolean
}

export interface HijackOptions {
  stdin?: Buffer | AsyncIterable<Buffer>
  /** Stdin bytes sent in the same write as the request, before the head has come back (the rest of `stdin` after). */
  early?: Buffer
  tty?: boolean
  /** Receives stdout chunks instead of collecting them (large streams). */
  onStdout?: (b: Buffer) => void
  /** Called with the socket once the head arrived (to pause it, destroy it...). */
  onSocket?: (s: Socket) => void
  timeoutMs?: number
}

// POST /exec/{id}/start with Connection: Upgrade, then reads stdcopy frames (or raw bytes with a tty) until the service
// closes. Stdin, if any, is written after the head and followed by a half-close.
export function hijackStart (sock: string, execId: string, o: HijackOptions = {}): Promise<HijackResult> {
  return new Promise((resolve, reject) => {
    const s = connect(sock)
    const body = JSON.stringify({ Detach: false, Tty: o.tty === true })
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`exec ${execId}: no end after ${o.timeoutMs ?? 120_000} ms`)) }, o.timeoutMs ?? 120_000)
    s.on('connect', () => {
      const req = `POST /v1.44/exec/${execId}/start HTTP/1.1\r\nHost: conex\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
      s.write(o.early === undefined ? Buffer.from(req) : Buffer.concat([Buffer.from(req), o.early]))
    })
    let head: Buffer | undefined = Buffer.alloc(0)
    let status = 0
    let pending: Buffer = Buffer.alloc(0)
    const out: Buffer[] = []
    const err: Buffer[] = []
    let badFrames = false
    const onPayload = (stream: number, b: Buffer): void => {
      if (stream === 2) err.push(b)
      else if (o.onStdout !== undefined) o.onStdout(b)
      else out.push(b)
    }
    const demux = (d: Buffer): void => {
      if (o.tty === true) { onPayload(1, d); return }
      pending = pending.length === 0 ? d : Buffer.concat([pending, d])
      while (pending.length >= 8) {
        const len = pending.readUInt32BE(4)
        if (pending[0] > 2 || pending[1] !== 0) { badFrames = true; pending = Buffer.alloc(0); return }
        if (pending.length < 8 + len) return
        onPayload(pending[0], pending.subarray(8, 8 + len))
        pending = pending.subarray(8 + len)
      }
    }
    const sendStdin = async (): Promise<void> => {
      if (o.stdin === undefined) return
      if (Buffer.isBuffer(o.stdin)) s.write(o.stdin)
      else {
        for await (const chunk of o.stdin) {
          if (!s.write(chunk)) {
            await new Promise<void>((resolve) => {
              const done = (): void => { s.removeListener('drain', done); s.removeListener('close', done); resolve() }
              s.once('drain', done)
              s.once('close', done)
            })
          }
          if (s.destroyed) return
        }
      }
      s.end()
    }
    s.on('data', (d: Buffer) => {
      if (head === undefined) { demux(d); return }
      head = Buffer.concat([head, d])
      const i = head.indexOf('\r\n\r\n')
      if (i === -1) return
      status = Number(/^HTTP\/1\.1 (\d+)/.exec(head.subarray(0, i).toString())?.[1] ?? 0)
      const rest = head.subarray(i + 4)
      head = undefined
      if (status === 101 || status === 200) {
        o.onSocket?.(s)
        void sendStdin().catch(() => undefined)
        if (rest.length > 0) demux(rest)
      } else out.push(rest)
    })
    s.on('error', () => { /* the close below reports */ })
    s.on('close', () => {
      clearTimeout(timer)
      resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err), badFrames })
    })
  })
}

export interface ExecCreate { Cmd: string[], Env?: string[], AttachStdin?: boolean, Tty?: boolean, User?: string, Privileged?: boolean }

// Create + hijacked start + inspect: what `docker exec` does. Returns the output and the inspected exit code.
export async function apiExec (sock: string, container: string, cfg: ExecCreate, o: HijackOptions = {}): Promise<HijackResult & { id: string, exitCode: number | null, running: boolean }> {
  const c = await api(sock, 'POST', `/v1.44/containers/${container}/exec`, { AttachStdout: true, AttachStderr: true, ...cfg })
  if (c.status !== 201) throw new Error(`exec create: ${c.status} ${c.body}`)
  const id = c.json().Id as string
  const r = await hijackStart(sock, id, { ...o, tty: cfg.Tty })
  const i = await api(sock, 'GET', `/v1.44/exec/${id}/json`)
  if (i.status !== 200) throw new Error(`exec inspect: ${i.status} ${i.body}`)
  const j = i.json()
  return { ...r, id, exitCode: j.ExitCode as number | null, running: j.Running as boolean }
}

// ---------------------------------------------------------------------------------------------------------------
// The output pattern

// A command printing exactly `bytes` bytes (a multiple of 16): numbered 16-byte lines `NNNNNNN TOKENxx\n`. Every
// byte is predictable, so a lost, duplicated, reordered or foreign (another session's) chunk is caught.
export function patternCommand (token: string, bytes: number): string[] {
  if (token.length !== 7 || bytes % 16 !== 0) throw new Error('token must be 7 characters and bytes a multiple of 16')
  return ['awk', `BEGIN { for (i = 0; i < ${bytes / 16}; i++) printf "%07d ${token}\\n", i }`]
}

// What patternCommand prints.
export function expectedPattern (token: string, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes)
  for (let i = 0; i < bytes / 16; i++) out.write(`${String(i).padStart(7, '0')} ${token}\n`, i * 16, 'latin1')
  return out
}

// Where two buffers first differ (-1 when equal), for a useful failure message.
export function firstDifference (a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : n
}

// ---------------------------------------------------------------------------------------------------------------
// Leak census

export interface Census {
  conmons: number[]
  /** Exec bundles left under runroot/exec. */
  execBundles: string[]
  /** Mounts under the store other than the rootfs of containers that run. */
  mounts: string[]
}

// What a store holds that belongs to processes: `running` are ids of containers expected to be up.
export function census (store: Store, running: string[] = []): Census {
  const execDir = join(store.runroot, 'exec')
  const execBundles = existsSync(execDir) ? readdirSync(execDir) : []
  const base = join(store.root, '..')
  const mounts = mountsUnder(base).filter((m) => !running.some((id) => m.includes(id)))
  // conmons of running containers stay; exec conmons mention the exec dir in their argv.
  const conmons = conmonsFor(execDir)
  return { conmons, execBundles, mounts }
}

// Sessions per state in the store's database, through the engine's own sqlite (no sqlite3 binary needed).
export function sessionCounts (store: Store): Record<string, number> {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3')
  const db = new Database(join(store.root, 'conex.db'), { readonly: true, timeout: 60_000 })
  try {
    const rows = db.prepare('SELECT container_id AS c, state AS s, COUNT(*) AS n FROM exec_sessions GROUP BY container_id, state').all() as Array<{ c: string, s: string, n: number }>
    const out: Record<string, number> = {}
    for (const r of rows) {
      out[r.s] = (out[r.s] ?? 0) + r.n
      out[`max:${r.s}`] = Math.max(out[`max:${r.s}`] ?? 0, r.n)
    }
    return out
  } finally { db.close() }
}
