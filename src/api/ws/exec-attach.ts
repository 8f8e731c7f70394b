// `GET /conex/v1/exec/{id}/attach` with `Upgrade: websocket`: starts a created exec session, as an attached
// `POST /exec/{id}/start` would, and streams it over Kubernetes' channel protocol (k8s-channels.ts). Used by the
// API server (unix socket) and by the web console (TCP, behind its token).
//
//   400 not a WebSocket upgrade, no v5/v4.channel.k8s.io offered, a bad ?record
//   404 no such session              409 the session is not in state `created` (it runs once), or its container
//                                        is not running
//   101 → output on 1/2 → status on 3 → close 1000
//
// A client that goes away detaches (the session goes on, as after a docker attach), unless the caller asked
// `stopOnDisconnect` (the web console: closing the tab ends its shell). Detach keys are off: over a WebSocket the
// client closes to detach, and ctrl-p must reach the shell.
import type { IncomingMessage } from 'node:http'
import { STATUS_CODES } from 'node:http'
import { PassThrough, type Duplex, type Writable } from 'node:stream'
import { isAbsolute } from 'node:path'
import WebSocket, { WebSocketServer } from 'ws'
import type { Engine, ExecResult, ExecSessionRecord } from '../../engine/types'
import { EngineError, toEngineError } from '../../errors'
import { CHANNEL, V5, encodeFrame, errorStatus, exitStatus, negotiateSubprotocol, parseResize, type K8sStatus, type Subprotocol } from './k8s-channels'
import { FrameSender } from './frame-sender'

export const EXEC_ATTACH_PATH = /^\/conex\/v1\/exec\/([A-Za-z0-9][A-Za-z0-9_.-]{0,127})\/attach$/

/** Largest client message (stdin chunk, resize): kubectl sends at most 32 KiB of stdin per message. */
const MAX_MESSAGE = 4 * 1024 * 1024

export interface ExecAttachOptions {
  engine: Engine
  /** Who is on the other end, for the audit trail (`uid=0 pid=123`, `web:127.0.0.1`). */
  requester: string
  log: (line: string) => void
  /** Accept `?record=PATH` (asciicast v2 on the host). The API socket allows it; the web console does not. */
  allowRecord: boolean
  /** Stop the process when the client leaves before it ended; otherwise the session goes on, detached. */
  stopOnDisconnect: boolean
}

// Is this request (path only, any query) ours?
export function isExecAttachRequest (req: IncomingMessage): boolean {
  return EXEC_ATTACH_PATH.test(pathOf(req))
}

const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0]

// Answers an upgrade request with a plain HTTP error and closes the socket.
export function rejectUpgrade (socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ message }) + '\n'
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n`
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
  if (socket.writable) socket.end(head + '\r\n' + body)
  else socket.destroy()
}

let wss: WebSocketServer | undefined
const server = (): WebSocketServer => {
  wss ??= new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE,
    perMessageDeflate: false,
    handleProtocols: (offered) => negotiateSubprotocol(offered) ?? false,
  })
  return wss
}

interface Checked { session: ExecSessionRecord, protocol: Subprotocol, recordPath?: string }

// Everything that can still be answered with an HTTP status, before the 101.
async function check (req: IncomingMessage, o: ExecAttachOptions): Promise<Checked> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const m = EXEC_ATTACH_PATH.exec(url.pathname)
  if (m === null) throw new EngineError('NO_SUCH_ROUTE', 'page not found')
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') throw new EngineError('INVALID_ARGUMENT', `${url.pathname} is a WebSocket endpoint: send Upgrade: websocket`)
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')
  const protocol = negotiateSubprotocol(offered)
  if (protocol === undefined) {
    throw new EngineError('INVALID_ARGUMENT', `unsupported WebSocket subprotocol ${offered.length === 0 ? '(none offered)' : JSON.stringify(offered.join(', '))}: conex speaks v5.channel.k8s.io and v4.channel.k8s.io`)
  }
  const record = url.searchParams.get('record') ?? undefined
  if (record !== undefined) {
    if (!o.allowRecord) throw new EngineError('INVALID_ARGUMENT', 'record is not available on this endpoint')
    if (!isAbsolute(record)) throw new EngineError('INVALID_ARGUMENT', `record must be an absolute path on the host, got "${record}"`)
  }
  const session = await o.engine.getExec(m[1])
  if (session.state !== 'created') {
    throw new EngineError('EXEC_STATE', `exec session ${session.id} is ${session.state}: a session is started once (to watch a running one, use conex exec attach)`)
  }
  const c = await o.engine.getContainer(session.containerId)
  if (c.state === 'paused') throw new EngineError('CONTAINER_PAUSED', `container ${c.name} is paused, unpause the container before exec`)
  if (c.state !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `can only start exec sessions when their container is running: container ${c.name} is ${c.state}`)
  return { session, protocol, recordPath: record }
}

// Handles one upgrade request end to end; resolves when the WebSocket has closed (or the request was refused).
export async function handleExecAttach (req: IncomingMessage, socket: Duplex, head: Buffer, o: ExecAttachOptions): Promise<void> {
  socket.on('error', () => { /* the client went away; 'close' follows */ })
  let c: Checked
  try {
    c = await check(req, o)
  } catch (err) {
    const e = toEngineError(err)
    if (e.code === 'INTERNAL') o.log(`exec attach ${req.url ?? ''}: internal error: ${(err as Error).stack ?? String(err)}`)
    rejectUpgrade(socket, e.httpStatus, e.message)
    return
  }
  const ws = await new Promise<WebSocket>((resolve) => server().handleUpgrade(req, socket, head, resolve))
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  await runSession(ws, c, o)
  await closed
}

// Ends a Writable and waits until everything written was handed on.
const finished = (w: Writable): Promise<void> => new Promise((resolve) => {
  if (w.writableFinished) { resolve(); return }
  w.once('finish', resolve)
  w.once('error', () => resolve())
  w.end()
})

async function runSession (ws: WebSocket, c: Checked, o: ExecAttachOptions): Promise<void> {
  const { session: s, protocol } = c
  const ac = new AbortController()
  const sender = new FrameSender(ws)
  const stdout = sender.channel(CHANNEL.stdout)
  const stderr = sender.channel(CHANNEL.stderr)
  const stdin = s.config.attachStdin ? new PassThrough() : undefined
  // Resizes that arrive before the process runs wait for it (the ctl FIFO exists only then); the last one wins.
  let running = false
  let pendingSize: { width: number, height: number } | undefined
  const resize = (r: { width: number, height: number }): void => {
    if (!running) { pendingSize = r; return }
    o.engine.resizeExec(s.id, r.height, r.width).catch(() => { /* the session ended meanwhile */ })
  }
  ws.on('message', (data: Buffer) => {
    if (data.length === 0) return
    const payload = data.subarray(1)
    switch (data[0]) {
      case CHANNEL.stdin:
        if (stdin === undefined || stdin.writableEnded || payload.length === 0) return
        // Backpressure towards the client: stop reading its socket until the process has taken the input.
        if (!stdin.write(payload)) { ws.pause(); stdin.once('drain', () => ws.resume()) }
        return
      case CHANNEL.resize: {
        const r = parseResize(payload)
        if (r !== undefined) resize(r)
        return
      }
      case CHANNEL.close:
        if (protocol === V5 && payload[0] === CHANNEL.stdin) stdin?.end()
        return
      default: // unknown channels are ignored, as the kubelet does
    }
  })
  ws.on('error', () => { /* 'close' follows */ })
  ws.once('close', () => ac.abort())
  const sendStatus = async (st: K8sStatus): Promise<void> => {
    await Promise.all([finished(stdout), finished(stderr)])
    sender.push(encodeFrame(CHANNEL.status, JSON.stringify(st)))
    ws.close(1000)
  }
  let r: ExecResult
  try {
    r = await o.engine.startExec(s.id, {
      streams: {
        stdin,
        stdout,
        stderr,
        onStarted: () => { running = true; if (pendingSize !== undefined) resize(pendingSize) },
      },
      signal: ac.signal,
      detachKeys: '',
      recordPath: c.recordPath,
      requester: o.requester,
    })
  } catch (err) {
    const e = toEngineError(err)
    if (e.code === 'INTERNAL') o.log(`exec attach ${s.id}: internal error: ${(err as Error).stack ?? String(err)}`)
    await sendStatus(errorStatus(s.config.command, e))
    return
  }
  if (r.detached) {
    if (o.stopOnDisconnect) await o.engine.stopExec(s.id, 1).catch((err: unknown) => o.log(`exec attach ${s.id}: stopping after disconnect: ${(err as Error).message}`))
    ws.terminate()
    return
  }
  await sendStatus(exitStatus(s.config.command, r.exitCode ?? -1))
}

