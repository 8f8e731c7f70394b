// `conex system service`: serves the API on a unix socket (default /run/conex/conex.sock, mode 0660, owner root,
// group on request) or on TCP, which requires TLS with client-certificate verification unless the caller insists
// on --insecure-tcp. Exits after `idleSeconds` without requests in flight (podman's --time; 0 = never), or on
// SIGTERM/SIGINT, removing the socket. A periodic sweep records the end of exec sessions nobody is attached to.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { LocalEngine } from '../engine/engine'
import { createApiServer } from './server'

export interface ServiceOptions {
  engine: LocalEngine
  /** unix:///path or tcp://host:port */
  uri: string
  /** Exit after this many seconds with no request in flight; 0 = never. */
  idleSeconds: number
  /** Group (name or gid) given read/write access to the socket. */
  group?: string
  tls: { ca?: string, cert?: string, key?: string }
  insecureTcp: boolean
  /** Also serve the web console (src/web/) on this address ('' = its default); undefined: no console. */
  web?: string
  log: (line: string) => void
  /** Log every request (also CONEX_API_DEBUG=1). */
  debug?: boolean
}

const EXIT_ERROR = 125
const SWEEP_MS = 2_000
const DRAIN_MS = 5_000

type Endpoint = { kind: 'unix', path: string } | { kind: 'tcp', host: string, port: number }

// Parses the service URI; undefined when it is neither unix:// nor tcp://.
export function parseServiceUri (uri: string): Endpoint | undefined {
  if (uri.startsWith('unix://')) {
    const path = uri.slice('unix://'.length)
    return path.startsWith('/') ? { kind: 'unix', path } : undefined
  }
  const m = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(uri)
  if (m === null || Number(m[2]) > 65535) return undefined
  return { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) }
}

// Resolves a group name (from /etc/group) or a numeric gid.
function resolveGid (group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group)
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [name, , gid] = line.split(':')
      if (name === group) return Number(gid)
    }
  } catch { /* no /etc/group */ }
  return undefined
}

// Is someone listening on this unix socket?
function socketAlive (path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

function listen (server: Server, ep: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    const done = (): void => { server.removeListener('error', reject); resolve() }
    if (ep.kind === 'unix') server.listen(ep.path, done)
    else server.listen(ep.port, ep.host, done)
  })
}

// Runs the service until it is idle for `idleSeconds` or signalled; resolves with the exit code.
export async function runService (o: ServiceOptions): Promise<number> {
  const ep = parseServiceUri(o.uri)
  if (ep === undefined) { o.log(`Error: invalid service URI "${o.uri}": use unix:///path/to/socket or tcp://host:port`); return EXIT_ERROR }
  let tls: { ca: Buffer, cert: Buffer, key: Buffer } | undefined
  if (ep.kind === 'tcp') {
    const { ca, cert, key } = o.tls
    if (ca !== undefined || cert !== undefined || key !== undefined) {
      if (ca === undefined || cert === undefined || key === undefined) { o.log('Error: TLS needs all of --tlscacert, --tlscert and --tlskey'); return EXIT_ERROR }
      try { tls = { ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) } } catch (err) { o.log(`Error: reading TLS files: ${(err as Error).message}`); return EXIT_ERROR }
    } else if (!o.insecureTcp) {
      o.log(`Error: refusing to serve the API on plain TCP (${o.uri}): anyone who can connect would be root on this host. Give --tlscacert, --tlscert and --tlskey (clients must present a certificate signed by the CA), or --insecure-tcp if you really mean it`)
      return EXIT_ERROR
    } else {
      o.log(`WARNING: serving the API on ${o.uri} WITHOUT TLS OR AUTHENTICATION: anyone who can reach this port controls the host as root`)
    }
  }
  let inFlight = 0
  let idleTimer: NodeJS.Timeout | undefined
  let stop: (code: number) => void = () => undefined
  const stopped = new Promise<number>((resolve) => { stop = resolve })
  const armIdle = (): void => {
    if (o.idleSeconds > 0 && inFlight === 0) idleTimer = setTimeout(() => { o.log(`conex API service: idle for ${o.idleSeconds}s, exiting`); stop(0) }, o.idleSeconds * 1000)
  }
  const server = createApiServer(o.engine, {
    log: o.log,
    debug: o.debug,
    tls,
    onActivity: (d) => {
      inFlight += d
      if (idleTimer !== undefined) { clearTimeout(idleTimer); idleTimer = undefined }
      if (inFlight === 0) armIdle()
    },
  })
  trackSockets(server)
  if (ep.kind === 'unix') {
    try {
      mkdirSync(dirname(ep.path), { recursive: true, mode: 0o755 })
      if (existsSync(ep.path)) {
        if (!lstatSync(ep.path).isSocket()) { o.log(`Error: ${ep.path} exists and is not a socket`); return EXIT_ERROR }
        if (await socketAlive(ep.path)) { o.log(`Error: another service is already listening on ${ep.path}`); return EXIT_ERROR }
        unlinkSync(ep.path)
      }
    } catch (err) { o.log(`Error: preparing ${ep.path}: ${(err as Error).message}`); return EXIT_ERROR }
  }
  try { await listen(server, ep) } catch (err) { o.log(`Error: listening on ${o.uri}: ${(err as Error).message}`); return EXIT_ERROR }
  if (ep.kind === 'unix') {
    try {
      chmodSync(ep.path, 0o660)
      const gid = o.group !== undefined ? resolveGid(o.group) : 0
      if (gid === undefined) { o.log(`Error: unknown group "${o.group as string}"`); server.close(); unlinkSync(ep.path); return EXIT_ERROR }
      if (process.getuid?.() === 0) chownSync(ep.path, 0, gid)
    } catch (err) { o.log(`Error: setting up ${ep.path}: ${(err as Error).message}`); server.close(); return EXIT_ERROR }
  }
  // conmon runs a sealed copy of the runtime, made once here instead of by runc at every exec (oci/sealed-runtime.ts).
  o.engine.ctx.runtime.keepSealedCopy(o.engine.ctx.layout.sealedRuntimeLinks())
  o.log(`conex API service listening on ${o.uri}${o.idleSeconds > 0 ? ` (exits after ${o.idleSeconds}s idle)` : ''}`)
  // The web console (issue #7, docs/web.md): its own TCP server. While it is up it counts as one activity, so the
  // service does not exit when idle: the people using it send no API requests.
  let web: import('../web/web-console').WebConsole | undefined
  if (o.web !== undefined) {
    try {
      const { startWebConsole } = await import('../web/web-console')
      web = await startWebConsole({ engine: o.engine, addr: o.web, runroot: o.engine.ctx.cfg.runroot, log: o.log })
    } catch (err) {
      o.log(`Error: web console: ${(err as Error).message}`)
      await closeServer(server)
      if (ep.kind === 'unix') { try { unlinkSync(ep.path) } catch { /* already gone */ } }
      return EXIT_ERROR
    }
    inFlight++
    o.log(`conex web console: ${web.url}`)
  }
  armIdle()
  // engine.sweep() at start and every SWEEP_MS (reliability, issue #6): sessions that ended while no one watched (a
  // killed CLI, this service restarted after a SIGKILL) get their exit codes recorded within seconds, not at the
  // next request that happens to touch them. One sweep at a time: a slow one is never stacked.
  let sweeping = false
  const runSweep = (): void => {
    if (sweeping) return
    sweeping = true
    void o.engine.sweep().catch(() => undefined).finally(() => { sweeping = false })
  }
  runSweep()
  const sweep = setInterval(runSweep, SWEEP_MS)
  const onSignal = (): void => stop(0)
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  const code = await stopped
  process.removeListener('SIGTERM', onSignal)
  process.removeListener('SIGINT', onSignal)
  clearInterval(sweep)
  if (idleTimer !== undefined) clearTimeout(idleTimer)
  await web?.close()
  await closeServer(server)
  await o.engine.releasePrepared()
  o.engine.ctx.runtime.dropSealedCopy()
  if (ep.kind === 'unix') { try { unlinkSync(ep.path) } catch { /* already gone */ } }
  return code
}

// Every connection of a server, hijacked ones included: Node's closeAllConnections() only knows the connections its
// HTTP parser still owns, and a hijacked attach or exec stream would keep server.close() waiting for ever.
const socketsOf = new WeakMap<Server, Set<Duplex>>()
function trackSockets (server: Server): void {
  const set = new Set<Duplex>()
  socketsOf.set(server, set)
  server.on('connection', (s: Duplex) => { set.add(s); s.once('close', () => set.delete(s)) })
}

// Stops accepting, closes idle keep-alive connections, and gives streams DRAIN_MS before cutting them.
export function closeServer (server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.closeAllConnections()
      for (const s of socketsOf.get(server) ?? []) s.destroy()
    }, DRAIN_MS)
    server.close(() => { clearTimeout(force); resolve() })
    server.closeIdleConnections()
  })
}
