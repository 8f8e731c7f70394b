// Helpers for the API tests: the real service (`conex system service`) on an isolated store and a unix socket of
// its own, a raw HTTP client for exact status codes and bytes, and the real clients (docker CLI, podman remote)
// pointed at it. stop() ends the service (SIGTERM), removes every container and waits for conmon's exit commands.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { request, type IncomingHttpHeaders } from 'node:http'
import { join } from 'node:path'
import { CONEX_BIN, makeStore, runProgram, type RunOptions, type RunResult, type Store } from '../helpers'

export const DOCKER_BIN = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p)) ?? ''
export const PODMAN_BIN = ['/usr/bin/podman', '/usr/local/bin/podman'].find((p) => existsSync(p)) ?? ''

export interface ApiReply { status: number, headers: IncomingHttpHeaders, body: Buffer, text: string, json: () => any }

export interface Api {
  store: Store
  sock: string
  /** DOCKER_HOST for clients. */
  host: string
  /** The service's stderr so far. */
  log: () => string
  /** One request on a fresh connection. */
  call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiReply>
  /** Sends `bytes` as they are and returns everything the service wrote back until it closed (or `ms` passed). */
  raw: (bytes: Buffer | string, ms?: number) => Promise<Buffer>
  docker: (args: string[], o?: RunOptions) => Promise<RunResult>
  podman: (args: string[], o?: RunOptions) => Promise<RunResult>
  /** The service process. */
  proc: ChildProcess
  stop: () => Promise<void>
}

// Waits until `fn` returns something other than undefined.
export async function waitFor<T> (what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

// Processes whose command line mentions `needle` (conmon and its exit commands for a store).
function processesMentioning (needle: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo')).map((l) => Number(l.trim().split(/\s+/)[0])).filter((p) => p !== process.pid)
}

// Starts the real service on a new store; extra service flags in `args`.
export async function startApi (name: string, o: { args?: string[], env?: NodeJS.ProcessEnv } = {}): Promise<Api> {
  const store = makeStore(`api-${name}`)
  const sock = join(store.runroot, 'api.sock')
  let err = ''
  const proc = spawn(CONEX_BIN, [...store.flags, 'system', 'service', '--time', '0', ...(o.args ?? []), `unix://${sock}`], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...o.env } })
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  let exited = false
  proc.once('exit', () => { exited = true })
  await waitFor(`the service socket (service said: ${err})`, () => { if (exited) throw new Error(`service exited: ${err}`); return err.includes('listening on') ? true : undefined })
  const dockerConfig = mkdtempSync('/tmp/conex-api-dockercfg-')
  // Read by the docker CLI and by podman (auth); an empty one keeps the host's out of the tests.
  writeFileSync(join(dockerConfig, 'config.json'), '{}\n')
  const clientEnv = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: dockerConfig, DOCKER_CLI_HINTS: 'false' }
  const api: Api = {
    store,
    sock,
    host: `unix://${sock}`,
    log: () => err,
    proc,
    call: (method, path, body, headers = {}) => callApi(sock, method, path, body, headers),
    raw: (bytes, ms = 5000) => rawApi(sock, bytes, ms),
    docker: (args, ro = {}) => runProgram(DOCKER_BIN, args, { ...ro, env: { ...clientEnv, ...ro.env } }),
    podman: (args, ro = {}) => runProgram(PODMAN_BIN, ['--remote', '--url', `unix://${sock}`, ...args], { ...ro, env: { ...clientEnv, ...ro.env } }),
    stop: async () => {
      if (!exited) {
        proc.kill('SIGTERM')
        await waitFor('the service to exit', () => exited ? true : undefined, 15_000).catch(() => { proc.kill('SIGKILL') })
      }
      rmSync(dockerConfig, { recursive: true, force: true })
      const base = store.root.slice(0, store.root.lastIndexOf('/'))
      await store.conex(['rm', '-f', '--all'], { timeoutMs: 60_000 }).catch(() => undefined)
      for (let i = 0; i < 100 && processesMentioning(base).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100))
      await store.cleanup()
    },
  }
  return api
}

// One HTTP request over the unix socket, on its own connection.
export function callApi (sock: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    const h: Record<string, string | number> = { ...headers }
    if (data !== undefined) { h['Content-Length'] = data.length; h['Content-Type'] ??= 'application/json' }
    const req = request({ socketPath: sock, method, path, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () => {
        const b = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString(), json: () => JSON.parse(b.toString()) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(data)
  })
}

// Writes raw bytes, collects the reply until the service closes the connection or `ms` pass.
export function rawApi (sock: string, bytes: Buffer | string, ms = 5000): Promise<Buffer> {
  return new Promise((resolve) => {
    const s = connect(sock)
    const chunks: Buffer[] = []
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(Buffer.concat(chunks)) }
    const t = setTimeout(done, ms)
    s.on('data', (d: Buffer) => chunks.push(d))
    s.on('close', done)
    s.on('error', done)
    s.write(bytes)
  })
}

// Splits a stdcopy stream into its frames; throws on a truncated frame.
export function demux (buf: Buffer): Array<{ stream: number, data: Buffer }> {
  const out: Array<{ stream: number, data: Buffer }> = []
  let off = 0
  while (off < buf.length) {
    if (off + 8 > buf.length) throw new Error(`truncated frame header at ${off}`)
    const len = buf.readUInt32BE(off + 4)
    if (off + 8 + len > buf.length) throw new Error(`truncated frame at ${off}`)
    out.push({ stream: buf[off], data: buf.subarray(off + 8, off + 8 + len) })
    off += 8 + len
  }
  return out
}
