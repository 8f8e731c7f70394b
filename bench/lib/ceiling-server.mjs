// A "null engine" for calibrating the harness: answers exec create / start / inspect on a unix socket the way the
// Docker API does, but produces the stream itself (no container, no runtime). Run as a separate process:
//   node bench/lib/ceiling-server.mjs SOCKET
// `dd ... count=N` execs stream N MiB of zero bytes in 8-byte-framed stdout chunks; any exec with AttachStdin counts
// the bytes it receives until EOF and reports them the way `dd of=/dev/null bs=1M iflag=fullblock` does. The throughput rows for this engine show
// the ceiling of the in-process client itself, so a real engine's row can be read against it.
// It also answers what the docker CLI asks for one `docker exec bench true` (ping with the API version, container
// inspect, exec create, start, exec inspect), so `docker exec` against it measures the docker CLI's own cost.
import fs from 'node:fs'
import http from 'node:http'

const sock = process.argv[2]
if (!sock) { console.error('usage: ceiling-server.mjs SOCKET'); process.exit(2) }
try { fs.unlinkSync(sock) } catch {}

const FRAME = 64 * 1024
const zeroFrame = Buffer.alloc(8 + FRAME)
zeroFrame[0] = 1
zeroFrame.writeUInt32BE(FRAME, 4)
const execs = new Map()
let next = 0

function frame (stream, payload) {
  const h = Buffer.alloc(8)
  h[0] = stream
  h.writeUInt32BE(payload.length, 4)
  return Buffer.concat([h, payload])
}

async function writeZeros (socket, bytes) {
  let left = bytes
  while (left > 0) {
    let buf = zeroFrame
    if (left < FRAME) { buf = Buffer.from(zeroFrame.subarray(0, 8 + left)); buf.writeUInt32BE(left, 4) }
    left -= buf.length - 8
    if (!socket.write(buf)) await new Promise((resolve) => socket.once('drain', resolve))
  }
}

const server = http.createServer((req, res) => {
  const parts = []
  req.on('data', (d) => parts.push(d))
  req.on('end', () => {
    const url = req.url.replace(/^\/v[0-9.]+/, '')
    let m
    if (url === '/_ping') { res.writeHead(200, { 'Api-Version': '1.41', 'Ostype': 'linux', 'Content-Type': 'text/plain' }); res.end(req.method === 'HEAD' ? undefined : 'OK'); return }
    if (req.method === 'GET' && (m = url.match(/^\/containers\/([^/]+)\/json$/))) {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ Id: 'ceiling', Name: `/${m[1]}`, State: { Status: 'running', Running: true, Paused: false, Restarting: false }, Config: { Tty: false } }))
      return
    }
    if (req.method === 'POST' && (m = url.match(/^\/containers\/[^/]+\/exec$/))) {
      const body = JSON.parse(Buffer.concat(parts).toString() || '{}')
      const id = `ceiling${++next}`
      const count = (body.Cmd ?? []).map((a) => a.match(/^count=(\d+)$/)).find(Boolean)
      execs.set(id, { bytes: count ? Number(count[1]) * 1024 * 1024 : 0, stdin: !!body.AttachStdin })
      res.writeHead(201, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ Id: id }))
      return
    }
    if (req.method === 'GET' && (m = url.match(/^\/exec\/([^/]+)\/json$/))) {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ ID: m[1], Running: false, ExitCode: 0 }))
      setTimeout(() => execs.delete(m[1]), 1000)
      return
    }
    res.writeHead(404); res.end('{"message":"not found"}')
  })
})

// exec start arrives as an upgrade request (Connection: Upgrade, Upgrade: tcp)
server.on('upgrade', (req, socket, head) => {
  const m = req.url.replace(/^\/v[0-9.]+/, '').match(/^\/exec\/([^/]+)\/start$/)
  const ex = m && execs.get(m[1])
  if (!ex) { socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'); return }
  socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n')
  if (ex.stdin) {
    // the start request's JSON body arrives on the same stream first; it is not stdin
    let skip = Number(req.headers['content-length'] || 0)
    let n = 0
    const count = (d) => { const s = Math.min(skip, d.length); skip -= s; n += d.length - s }
    if (head && head.length) count(head)
    socket.on('data', count)
    // answers like `dd of=/dev/null bs=1M iflag=fullblock` on stderr
    socket.on('end', () => {
      const full = Math.floor(n / 1048576); const part = n % 1048576 ? 1 : 0
      socket.end(frame(2, Buffer.from(`${full}+${part} records in\n${full}+${part} records out\n`)))
    })
  } else {
    writeZeros(socket, ex.bytes).then(() => socket.end(), () => socket.destroy())
  }
  socket.on('error', () => {})
})

server.listen(sock, () => { process.stdout.write('ready\n') })
process.on('SIGTERM', () => { server.close(); try { fs.unlinkSync(sock) } catch {} process.exit(0) })
