// Helpers for the WebSocket and web console tests: an in-process engine on an isolated store with one running
// container, an HTTP server that routes upgrades to the exec WebSocket handler, and a WebSocket client that collects
// what each channel carried.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import WebSocket from 'ws'
import { makeStore, type Store } from '../helpers'
import { LocalEngine } from '../../src/engine/engine'
import { loadConfig } from '../../src/config'
import { handleExecAttach, rejectUpgrade, isExecAttachRequest, type ExecAttachOptions } from '../../src/api/ws/exec-attach'

export interface TestEngine { store: Store, engine: LocalEngine, container: string, close: () => Promise<void> }

// A store with one running busybox container (`c1`, sleeping) and an engine on it in this process. conmon's exit
// commands call the bundled CLI, as they would from the service.
export async function startTestEngine (name: string): Promise<TestEngine> {
  const store = makeStore(name)
  const r = await store.conex(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '1000'])
  if (r.code !== 0) { await store.cleanup(); throw new Error(`conex run failed: ${r.stderr}`) }
  const engine = new LocalEngine({
    cfg: loadConfig({ root: store.root, runroot: store.runroot }),
    selfCommand: [process.execPath, resolve(__dirname, '../../conex.js')],
    requester: 'test',
  })
  return { store, engine, container: r.out.trim(), close: async () => { engine.close(); await store.cleanup() } }
}

// An HTTP server on a free loopback port whose upgrades go to handleExecAttach (as the API server's hook does).
export async function startWsServer (o: Omit<ExecAttachOptions, 'log'> & { log?: (l: string) => void }): Promise<{ server: Server, base: string, close: () => Promise<void> }> {
  const server = createServer((_req, res) => { res.writeHead(404).end() })
  server.on('upgrade', (req, socket, head) => {
    if (!isExecAttachRequest(req)) { rejectUpgrade(socket, 404, 'page not found'); return }
    void handleExecAttach(req, socket, head, { log: () => undefined, ...o })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    server,
    base: `ws://127.0.0.1:${port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

export interface WsRun {
  /** The HTTP status when the upgrade was refused (then nothing else is set). */
  httpStatus?: number
  httpBody?: string
  protocol?: string
  /** Concatenated payloads per channel. */
  channels: Map<number, Buffer>
  /** Channels in arrival order (to check the status came last). */
  order: number[]
  status?: Record<string, unknown>
  closeCode?: number
}

export interface WsScript {
  protocols?: string[]
  headers?: Record<string, string>
  /** Called once open: send input, resize... */
  onOpen?: (ws: WebSocket, run: WsRun) => void | Promise<void>
  /** Called on every message (after it was recorded). */
  onMessage?: (ws: WebSocket, run: WsRun) => void
  timeoutMs?: number
}

// Opens `url`, runs the script, and resolves once the socket closed (or the upgrade was refused).
export function runWs (url: string, s: WsScript = {}): Promise<WsRun> {
  const run: WsRun = { channels: new Map(), order: [] }
  return new Promise((resolvePromise, reject) => {
    const ws = new WebSocket(url, s.protocols ?? ['v5.channel.k8s.io'], { headers: s.headers })
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`WebSocket ${url} did not finish within ${s.timeoutMs ?? 15000} ms; got ${JSON.stringify([...run.channels].map(([k, v]) => [k, v.toString()]))}`)) }, s.timeoutMs ?? 15000)
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => { clearTimeout(timer); run.httpStatus = res.statusCode; run.httpBody = body; resolvePromise(run) })
    })
    ws.on('open', () => {
      run.protocol = ws.protocol
      Promise.resolve(s.onOpen?.(ws, run)).catch(reject)
    })
    ws.on('message', (data: Buffer) => {
      const ch = data[0]
      run.order.push(ch)
      run.channels.set(ch, Buffer.concat([run.channels.get(ch) ?? Buffer.alloc(0), data.subarray(1)]))
      if (ch === 3) run.status = JSON.parse(data.subarray(1).toString()) as Record<string, unknown>
      s.onMessage?.(ws, run)
    })
    ws.on('error', (err) => { if (run.httpStatus === undefined) { clearTimeout(timer); reject(err) } })
    ws.on('close', (code) => { clearTimeout(timer); run.closeCode = code; resolvePromise(run) })
  })
}

// A channel-prefixed message.
export const frame = (channel: number, payload: Buffer | string): Buffer => Buffer.concat([Buffer.from([channel]), Buffer.from(payload)])

export const text = (run: WsRun, channel: number): string => run.channels.get(channel)?.toString() ?? ''
