// The API server: one handler for both the Docker Engine API and podman's libpod API. It strips the version prefix,
// routes, validates the query, path parameters and body against the route's schemas, calls the handler, and turns
// any error into a reply through error-response.ts. It keeps no container state: every request asks the engine,
// which reads the shared store, so the CLI and the service can work on one store at once.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import type { LocalEngine } from '../engine/engine'
import { invalid } from '../errors'
import { Exchange, MAX_JSON_BODY } from './exchange'
import { Router, splitVersion, MAX_API_VERSION, LIBPOD_API_VERSION } from './router'
import { parseQuery } from './query'
import { parseJson, validateValue } from './schema'
import { sendError } from './error-response'
import { handleExecAttach, isExecAttachRequest } from './ws/exec-attach'
import { describePeer } from '../util/peercred'
import type { AnyRoute, ParamKind } from './route'
import { systemRoutes } from './routes/system'
import { containerRoutes } from './routes/containers'
import { execRoutes } from './routes/exec'
import { imageRoutes } from './routes/images'
import { eventRoutes } from './routes/events'
import { libpodRoutes } from './routes/libpod'

export interface ApiServerOptions {
  log: (line: string) => void
  /** Log every request line, its headers and body (CONEX_API_DEBUG=1 does the same). */
  debug?: boolean
  /** TLS with client-certificate verification (dockerd --tlsverify); PEM contents, not paths. */
  tls?: { ca: Buffer, cert: Buffer, key: Buffer }
  /** Told when a request starts (+1) and when its handler is done (-1): the idle timer counts these. */
  onActivity?: (delta: 1 | -1) => void
}

const PARAM_RULES: Record<ParamKind, { re: RegExp, what: string }> = {
  ref: { re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/, what: 'name or ID' },
  image: { re: /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9][A-Za-z0-9_.\-/:@+]{0,511}$/, what: 'image reference' },
  any: { re: /^[^\0]{1,1024}$/, what: 'value' },
}

// Rejects path parameters that cannot name anything (`../../etc`, NUL bytes, 4 KiB of junk) with a 400.
function checkParams (params: Record<string, string>, kinds: Record<string, ParamKind> | undefined): void {
  for (const [name, v] of Object.entries(params)) {
    const rule = PARAM_RULES[kinds?.[name] ?? 'ref']
    if (!rule.re.test(v)) throw invalid(`invalid ${rule.what} "${v.length > 80 ? v.slice(0, 80) + '...' : v}"`)
  }
}

// The debug log shows request bodies but never env values, which may be secrets (reliability, issue #6): Docker's
// `"Env":["K=V"]` becomes `"Env":["K=…"]`, libpod's `"env":{"K":"V"}` becomes `"env":{"K":"…"}`.
export function redactBody (raw: Buffer): string {
  if (raw.length <= MAX_JSON_BODY) {
    try { return JSON.stringify(redactEnv(JSON.parse(raw.toString()))).slice(0, 2048) } catch { /* not JSON: the patterns below */ }
  }
  return raw.subarray(0, 2048).toString()
    .replace(/("Env"\s*:\s*\[)([^\]]*)/g, (_m, head: string, list: string) => head + list.replace(/"((?:[^"=\\]|\\.)*)=(?:[^"\\]|\\.)*"?/g, '"$1=…"'))
    .replace(/("env"\s*:\s*\{)([^}]*)/g, (_m, head: string, obj: string) => head + obj.replace(/("(?:[^"\\]|\\.)*"\s*:\s*)"(?:[^"\\]|\\.)*"?/g, '$1"…"'))
}

function redactEnv (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactEnv)
  if (typeof v !== 'object' || v === null) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    if (k === 'Env' && Array.isArray(x)) out[k] = x.map((e) => typeof e === 'string' ? e.replace(/=[^]*$/, '=…') : e)
    else if (k === 'env' && typeof x === 'object' && x !== null && !Array.isArray(x)) out[k] = Object.fromEntries(Object.keys(x).map((n) => [n, '…']))
    else out[k] = redactEnv(x)
  }
  return out
}

// Request headers for the debug log, without credentials.
function redactHeaders (headers: Record<string, unknown>): string {
  const out: Record<string, unknown> = { ...headers }
  for (const k of ['authorization', 'x-registry-auth', 'x-registry-config', 'cookie']) if (k in out) out[k] = '…'
  return JSON.stringify(out)
}

export function buildRouter (): Router<AnyRoute> {
  const r = new Router<AnyRoute>()
  for (const x of [...systemRoutes, ...eventRoutes, ...execRoutes, ...containerRoutes, ...imageRoutes, ...libpodRoutes]) r.add(x)
  return r
}

export interface ApiHandler {
  onRequest: (req: IncomingMessage, res: ServerResponse) => void
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void
}

// The request handler pair (normal requests and 'upgrade' events), usable with any http/https server.
export function createApiHandler (engine: LocalEngine, o: ApiServerOptions): ApiHandler {
  const router = buildRouter()
  const debug = o.debug === true || process.env.CONEX_API_DEBUG === '1'
  const dockerHeaders = { 'Api-Version': MAX_API_VERSION, 'Docker-Experimental': 'false', Ostype: 'linux', Server: `Docker/27.3.1 (linux) conex/${process.env.npm_package_version ?? '0.1.0'}`, 'Libpod-Api-Version': LIBPOD_API_VERSION }

  const dispatch = async (x: Exchange): Promise<void> => {
    o.onActivity?.(1)
    let docker = true
    try {
      const q = x.url.indexOf('?')
      const rawPath = q === -1 ? x.url : x.url.slice(0, q)
      const v = splitVersion(rawPath)
      docker = v.libpodVersion === undefined
      const { route, params } = router.match(x.method, v.path)
      checkParams(params, route.params)
      const query = route.query !== undefined ? parseQuery(route.query, new URLSearchParams(q === -1 ? '' : x.url.slice(q + 1))) : {}
      let body: unknown
      if (route.body !== undefined) {
        const raw = await x.readBody()
        if (debug) o.log(`API body: ${redactBody(raw)}`)
        const parsed = parseJson(raw)
        // `null` decodes to the zero value in Go: no body.
        body = parsed === undefined || parsed === null ? undefined : validateValue(route.body, parsed)
      }
      await route.handler({ x, engine, params, query, body, apiVersion: v.apiVersion, libpod: v.libpodVersion, headers: dockerHeaders, log: o.log })
      if (x.state === 'open') x.send(204)
    } catch (err) {
      sendError(x, err, o.log, { docker })
    } finally {
      o.onActivity?.(-1)
    }
  }

  return {
    onRequest: (req, res) => {
      if (debug) o.log(`API ${req.method ?? ''} ${req.url ?? ''} ${redactHeaders(req.headers)}`)
      void dispatch(new Exchange({ req, res, baseHeaders: dockerHeaders }))
    },
    onUpgrade: (req, socket, head) => {
      if (debug) o.log(`API (upgrade) ${req.method ?? ''} ${req.url ?? ''} ${redactHeaders(req.headers)}`)
      socket.on('error', () => { /* the client went away; the handler sees 'close' */ })
      // Exec over WebSocket (issue #7, docs/web.md): GET /conex/v1/exec/{id}/attach, Kubernetes' channel protocol.
      if (isExecAttachRequest(req)) {
        o.onActivity?.(1)
        void handleExecAttach(req, socket, head, { engine, requester: describePeer(req.socket as Socket), log: o.log, allowRecord: true, stopOnDisconnect: false })
          .catch((err: unknown) => o.log(`API websocket exec: ${(err as Error).message}`))
          .finally(() => o.onActivity?.(-1))
        return
      }
      void dispatch(new Exchange({ req, socket, head, baseHeaders: dockerHeaders }))
    },
  }
}

// How often Node looks for connections past headersTimeout (its default, 30 s, would let a client that sent half a
// head hold its socket for up to 65 s; with 5 s, at most 40). Reliability, issue #6.
const CHECK_CONNECTIONS_MS = 5_000

// A node http (or, with `tls`, https with client certificates required) server serving the API.
export function createApiServer (engine: LocalEngine, o: ApiServerOptions): Server {
  const h = createApiHandler(engine, o)
  const server: Server = o.tls !== undefined
    ? createHttpsServer({ ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, requestCert: true, rejectUnauthorized: true, noDelay: true, connectionsCheckingInterval: CHECK_CONNECTIONS_MS }, h.onRequest)
    : createHttpServer({ noDelay: true, connectionsCheckingInterval: CHECK_CONNECTIONS_MS }, h.onRequest)
  server.on('upgrade', h.onUpgrade)
  // Clients (docker CLI, podman) keep connections alive between the calls of one command; keep them long enough.
  server.keepAliveTimeout = 30_000
  server.headersTimeout = 35_000
  // Attach and exec streams and /events last as long as they last: no request timeout.
  server.requestTimeout = 0
  server.on('clientError', (err, socket) => {
    if (socket.writable && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') {
      const body = JSON.stringify({ message: `bad request: ${(err as Error).message}` }) + '\n'
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    } else socket.destroy()
  })
  return server
}
