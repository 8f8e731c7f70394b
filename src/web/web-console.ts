// The web console (`conex system service --web [ADDR]`): a page listing the running containers that opens a terminal
// (xterm.js) into any of them. Its own HTTP server on TCP (loopback by default), separate from the API's unix
// socket. Every request (page, assets, JSON, WebSocket) needs the access token (auth.ts), else 401.
//
//   GET  /                              the page (a ?token= visit sets the cookie and redirects here)
//   GET  /assets/{console,xterm,addon-fit}.{js,css}
//   GET  /api/containers                running containers: [{id, name, image, state, command}]
//   POST /api/containers/{ref}/exec     {"cmd"?: [...], "rows"?: n, "cols"?: n} → 201 {"id"}: a tty session (sh)
//   GET  /conex/v1/exec/{id}/attach     WebSocket (v5/v4.channel.k8s.io), as on the API socket (api/ws/)
//
// It does not: serve ?record (a browser must not write host files), or keep a session whose tab was closed (its
// process is stopped), or speak the Docker API.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { chmodSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import type { Engine } from '../engine/types'
import { EngineError, invalid, toEngineError } from '../errors'
import { handleExecAttach, isExecAttachRequest, rejectUpgrade } from '../api/ws/exec-attach'
import { AssetStore } from './assets'
import { newToken, presentedToken, sameToken, tokenCookie } from './auth'

export const DEFAULT_WEB_ADDR = '127.0.0.1:9090'
const MAX_BODY = 64 * 1024
const MAX_TTY_SIZE = 1000

export interface WebConsoleOptions {
  engine: Engine
  /** HOST:PORT, :PORT or PORT (on 127.0.0.1); '' means DEFAULT_WEB_ADDR. Port 0 picks a free port. */
  addr: string
  /** The URL with the token is written to <runroot>/web-url (mode 0600). */
  runroot: string
  log: (line: string) => void
  /** A given token instead of a random one (tests). */
  token?: string
  /** Told when a terminal session starts (+1) and ends (-1), so that the service does not idle out under it. */
  onActivity?: (delta: 1 | -1) => void
}

export interface WebConsole {
  /** http://HOST:PORT/?token=... */
  url: string
  token: string
  urlFile: string
  server: Server
  close: () => Promise<void>
}

// Parses --web's ADDR; throws INVALID_ARGUMENT with the accepted forms.
export function parseWebAddr (addr: string): { host: string, port: number } {
  const a = addr === '' ? DEFAULT_WEB_ADDR : addr
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(a)
  if (m === null || Number(m[2]) > 65535) throw invalid(`invalid web console address "${addr}": use HOST:PORT, :PORT or PORT (--web= alone means ${DEFAULT_WEB_ADDR})`)
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '')
  return { host: host === '' ? '127.0.0.1' : host, port: Number(m[2]) }
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.')

const SECURITY_HEADERS: Record<string, string> = {
  // xterm.js styles its rows with a <style> element: inline styles are allowed, inline scripts are not.
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
}

function reply (res: ServerResponse, status: number, body: string | Buffer, type = 'application/json', extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra })
  res.end(body)
}

const json = (res: ServerResponse, status: number, v: unknown, extra?: Record<string, string>): void => reply(res, status, JSON.stringify(v) + '\n', 'application/json', extra)

// A browser sends Origin on cross-origin requests and on every WebSocket: it must be this server.
function sameOrigin (req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return true
  try { return new URL(origin).host === req.headers.host } catch { return false }
}

async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw invalid('expected Content-Type: application/json')
  let size = 0
  const chunks: Buffer[] = []
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_BODY) throw new EngineError('PAYLOAD_TOO_LARGE', `request body is too large (limit ${MAX_BODY} bytes)`)
    chunks.push(c as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  let v: unknown
  try { v = JSON.parse(text) } catch { throw invalid('the body is not valid JSON') }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('the body must be a JSON object')
  return v as Record<string, unknown>
}

// The exec options the page may choose: a command (default sh) and the terminal's size.
function toWebExec (b: Record<string, unknown>): { command: string[], consoleSize?: [number, number] } {
  const cmd = b.cmd ?? ['sh']
  if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((x) => typeof x !== 'string' || x === '')) throw invalid('cmd must be a non-empty array of strings')
  const size = (v: unknown, what: string): number | undefined => {
    if (v === undefined) return undefined
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_TTY_SIZE) throw invalid(`${what} must be an integer in 1..${MAX_TTY_SIZE}`)
    return v as number
  }
  const rows = size(b.rows, 'rows')
  const cols = size(b.cols, 'cols')
  return { command: cmd as string[], consoleSize: rows !== undefined && cols !== undefined ? [rows, cols] : undefined }
}

const requesterOf = (req: IncomingMessage): string => `web:${req.socket.remoteAddress ?? 'unknown'}`

// Starts the console; resolves once it listens and web-url is written.
export async function startWebConsole (o: WebConsoleOptions): Promise<WebConsole> {
  const { host, port } = parseWebAddr(o.addr)
  const assets = AssetStore.open()
  const token = o.token ?? newToken()

  // Checks the token; on failure answers 401 and returns false.
  const authorize = (req: IncomingMessage, deny: (status: number, message: string) => void): { setCookie: boolean } | undefined => {
    const p = presentedToken(req)
    if (p === undefined || !sameToken(p.token, token)) {
      deny(401, p === undefined ? 'unauthorized: this console needs its access token (the URL conex system service printed, also in <runroot>/web-url)' : 'unauthorized: wrong access token')
      return undefined
    }
    if (!sameOrigin(req)) { deny(403, 'forbidden: cross-origin request'); return undefined }
    return { setCookie: p.fromQuery }
  }

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const a = authorize(req, (status, message) => json(res, status, { message }, { 'WWW-Authenticate': 'Bearer realm="conex web console"' }))
    if (a === undefined) return
    const cookie: Record<string, string> = a.setCookie ? { 'Set-Cookie': tokenCookie(token) } : {}
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const method = req.method ?? 'GET'
    if (method === 'GET' || method === 'HEAD') {
      // The first visit carries the token in the URL: keep it as a cookie, and take it out of the address bar.
      if (path === '/' && a.setCookie) { reply(res, 303, '', 'text/plain', { ...cookie, Location: '/' }); return }
      const asset = assets.get(path)
      if (asset !== undefined) { reply(res, 200, method === 'HEAD' ? '' : asset.body, asset.type, cookie); return }
      if (path === '/api/containers') {
        const list = await o.engine.listContainers()
        json(res, 200, list.map((c) => ({ id: c.id, name: c.name, image: c.imageName, state: c.state, command: [...c.config.entrypoint, ...c.config.command].join(' ') })), cookie)
        return
      }
    }
    const m = /^\/api\/containers\/([^/]+)\/exec$/.exec(path)
    if (m !== null && method === 'POST') {
      const w = toWebExec(await readJson(req))
      const s = await o.engine.createExec(decodeURIComponent(m[1]), {
        command: w.command, tty: true, attachStdin: true, attachStdout: true, attachStderr: true,
        consoleSize: w.consoleSize, addTerm: true, detachKeys: '', requester: requesterOf(req),
      })
      json(res, 201, { id: s.id }, cookie)
      return
    }
    throw new EngineError('NO_SUCH_ROUTE', 'page not found')
  }

  // Upgraded sockets are no longer the HTTP server's: close() cuts them itself, then waits for their sessions to stop.
  const sessions = new Set<Duplex>()
  const handlers = new Set<Promise<void>>()
  const server = createServer({ noDelay: true }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      const e = toEngineError(err)
      if (e.code === 'INTERNAL') o.log(`web console ${req.method ?? ''} ${req.url ?? ''}: internal error: ${(err as Error).stack ?? String(err)}`)
      if (!res.headersSent) json(res, e.httpStatus, { message: e.message })
      else res.destroy()
    })
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => { /* the client went away */ })
    if (authorize(req, (status, message) => rejectUpgrade(socket, status, message)) === undefined) return
    if (!isExecAttachRequest(req)) { rejectUpgrade(socket, 404, 'page not found'); return }
    o.onActivity?.(1)
    sessions.add(socket)
    const done = handleExecAttach(req, socket, head, { engine: o.engine, requester: requesterOf(req), log: o.log, allowRecord: false, stopOnDisconnect: true })
      .catch((err: unknown) => o.log(`web console: exec attach: ${(err as Error).message}`))
      .finally(() => { sessions.delete(socket); handlers.delete(done); o.onActivity?.(-1) })
    handlers.add(done)
  })
  server.on('clientError', (_err, socket) => { socket.destroy() })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.removeListener('error', reject); resolve() })
  })
  const bound = server.address()
  const realPort = typeof bound === 'object' && bound !== null ? bound.port : port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${realPort}/?token=${token}`
  const urlFile = join(o.runroot, 'web-url')
  writeFileSync(urlFile, url + '\n', { mode: 0o600 })
  chmodSync(urlFile, 0o600)
  if (!isLoopback(host)) o.log(`WARNING: the web console listens on ${host}:${realPort} over plain HTTP: its token can be read by anyone on the path, and it grants a shell in every container`)
  return {
    url,
    token,
    urlFile,
    server,
    close: async () => {
      const closed = new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() })
      for (const s of sessions) s.destroy()
      await Promise.allSettled([...handlers])
      await closed
      try { if (readFileSync(urlFile, 'utf8').trim() === url) unlinkSync(urlFile) } catch { /* already gone */ }
    },
  }
}
