// In-process Docker Engine API / libpod API client over a unix socket, only as much as the benchmark needs:
// exec create -> exec start (hijacked, 8-byte multiplexed frames demuxed and counted) -> exec inspect.
// Uses node:http only. The same client is used for every engine so its own cost is common to all rows.
import http from 'node:http'
import { pumpZeros } from './util.mjs'

export class StreamDemux {
  constructor () {
    this.header = Buffer.alloc(8); this.headerFill = 0; this.payloadLeft = 0; this.stream = 0
    this.bytes = [0, 0, 0]; this.keep = [[], [], []]; this.kept = [0, 0, 0]; this.error = null
  }

  push (chunk) {
    let i = 0
    while (i < chunk.length && this.error === null) {
      if (this.payloadLeft === 0) {
        const take = Math.min(8 - this.headerFill, chunk.length - i)
        chunk.copy(this.header, this.headerFill, i, i + take)
        this.headerFill += take; i += take
        if (this.headerFill < 8) return
        this.headerFill = 0
        const h = this.header
        if (h[0] > 2 || h[1] !== 0 || h[2] !== 0 || h[3] !== 0) {
          this.error = `bad stream frame header ${h.toString('hex')}`
          return
        }
        this.stream = h[0]
        this.payloadLeft = h.readUInt32BE(4)
        continue
      }
      const take = Math.min(this.payloadLeft, chunk.length - i)
      this.bytes[this.stream] += take
      if (this.kept[this.stream] < 4096) {
        this.keep[this.stream].push(chunk.subarray(i, i + take)); this.kept[this.stream] += take
      }
      this.payloadLeft -= take; i += take
    }
  }

  text (s) { return Buffer.concat(this.keep[s]).toString().slice(0, 4096) }
  get complete () { return this.headerFill === 0 && this.payloadLeft === 0 }
}

export class ApiClient {
  /** prefix: '/v1.41' for the Docker API, '/v4.0.0/libpod' for the libpod API. */
  constructor (socketPath, prefix = '/v1.41') {
    this.socketPath = socketPath
    this.prefix = prefix
    // one connection per request: reusing keep-alive connections races with the server closing idle ones
    // (EPIPE / ECONNRESET on a reused socket), which would be counted against the engine. A unix-socket connect
    // costs well under a millisecond.
    this.agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
  }

  close () { this.agent.destroy() }

  request (method, path, body, timeoutMs = 30_000) {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
      const headers = { Host: 'd' }
      if (data) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = data.length }
      const req = http.request({ socketPath: this.socketPath, method, path: this.prefix + path, headers, agent: this.agent }, (res) => {
        const parts = []
        res.on('data', (d) => parts.push(d))
        res.on('end', () => {
          clearTimeout(timer)
          const text = Buffer.concat(parts).toString()
          let json
          try { json = text ? JSON.parse(text) : undefined } catch {}
          if (res.statusCode >= 300) reject(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.trim().slice(0, 200)}`))
          else resolve({ status: res.statusCode, json, text })
        })
        res.on('error', (e) => { clearTimeout(timer); reject(e) })
      })
      const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs} ms`)), timeoutMs)
      req.on('error', (e) => { clearTimeout(timer); reject(e) })
      req.end(data)
    })
  }

  async ping (timeoutMs = 2000) {
    // _ping is unversioned in practice; libpod also serves it under its prefix
    const saved = this.prefix
    this.prefix = ''
    try { return (await this.request('GET', '/_ping', undefined, timeoutMs)).text } finally { this.prefix = saved }
  }

  async execCreate (container, cmd, { stdin = false, timeoutMs = 30_000 } = {}) {
    const r = await this.request('POST', `/containers/${container}/exec`, {
      Cmd: cmd, AttachStdin: stdin, AttachStdout: true, AttachStderr: true, Tty: false
    }, timeoutMs)
    const id = r.json?.Id
    if (!id) throw new Error(`exec create returned no Id: ${r.text.slice(0, 200)}`)
    return id
  }

  /**
   * Starts an exec attached, reads the multiplexed stream to EOF. stdinBytes > 0 streams that many zero bytes
   * to the process and half-closes. Resolves with the demuxer.
   */
  execStart (id, { stdinBytes = 0, timeoutMs = 60_000 } = {}) {
    return new Promise((resolve, reject) => {
      const body = Buffer.from(JSON.stringify({ Detach: false, Tty: false }))
      const demux = new StreamDemux()
      let settled = false
      let sock
      const finish = (err) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err) { if (sock) sock.destroy(); reject(err) } else if (demux.error) reject(new Error(demux.error)); else resolve(demux)
      }
      const req = http.request({
        socketPath: this.socketPath,
        method: 'POST',
        path: `${this.prefix}/exec/${id}/start`,
        headers: { Host: 'd', 'Content-Type': 'application/json', 'Content-Length': body.length, Connection: 'Upgrade', Upgrade: 'tcp' },
        agent: false
      })
      const timer = setTimeout(() => { req.destroy(); finish(new Error(`exec start timed out after ${timeoutMs} ms`)) }, timeoutMs)
      const consume = (stream, head) => {
        sock = stream
        if (head && head.length) demux.push(head)
        stream.on('data', (d) => demux.push(d))
        stream.on('end', () => finish())
        stream.on('close', () => finish())
        stream.on('error', (e) => finish(e))
      }
      req.on('upgrade', (res, socket, head) => {
        consume(socket, head)
        if (stdinBytes > 0) {
          pumpZeros(socket, stdinBytes).then(() => socket.end(), (e) => finish(e))
        }
      })
      req.on('response', (res) => {
        if (res.statusCode >= 300) {
          const parts = []
          res.on('data', (d) => parts.push(d))
          res.on('end', () => finish(new Error(`exec start: HTTP ${res.statusCode} ${Buffer.concat(parts).toString().trim().slice(0, 200)}`)))
          return
        }
        if (stdinBytes > 0) { finish(new Error(`exec start answered ${res.statusCode} without upgrading; cannot stream stdin`)); return }
        consume(res)
      })
      req.on('error', (e) => finish(e))
      req.end(body)
    })
  }

  async execInspect (id, timeoutMs = 30_000) {
    // bounded: an engine may still be recording the exit code when the stream closes
    for (let i = 0; i < 50; i++) {
      const r = await this.request('GET', `/exec/${id}/json`, undefined, timeoutMs)
      if (r.json && r.json.Running === false && r.json.ExitCode !== null && r.json.ExitCode !== undefined) return r.json
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error(`exec ${id} still running or without exit code after stream EOF`)
  }

  /** Full round trip; returns {ms, exitCode, stdoutBytes, stderrBytes, stdout, stderr}. Each of the three calls
   * gets timeoutMs (create and inspect at most 60 s). */
  async exec (container, cmd, { stdinBytes = 0, timeoutMs = 60_000 } = {}) {
    const t0 = process.hrtime.bigint()
    const small = Math.min(timeoutMs, 60_000)
    const id = await this.execCreate(container, cmd, { stdin: stdinBytes > 0, timeoutMs: small })
    const demux = await this.execStart(id, { stdinBytes, timeoutMs })
    const info = await this.execInspect(id, small)
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    return { ms, exitCode: info.ExitCode, stdoutBytes: demux.bytes[1], stderrBytes: demux.bytes[2], stdout: demux.text(1), stderr: demux.text(2) }
  }
}
