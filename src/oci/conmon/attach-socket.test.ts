// pumpAttach against a real SOCK_SEQPACKET server (python3; conmon is not needed): output that arrived before the
// pump started (held since connect), and the end with it, reach the sinks before the pump's promise resolves.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { connectAttachSocket, pumpAttach } from './attach-socket'

// Sends two stdout packets and a stderr packet as conmon does (stream id byte, payload), then closes.
const SERVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
for p in [b'\\x0237 123\\r\\n', b'\\x02[xterm]\\r\\n', b'\\x03oops\\n']: c.sendall(p)
c.close()
print('closed', flush=True)
`

function sink (): { w: Writable, got: string[] } {
  const got: string[] = []
  return { got, w: new Writable({ write (chunk: Buffer, _enc, cb) { got.push(chunk.toString()); cb() } }) }
}

test('output held before the pump and the end with it are in the sinks when the pump resolves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'conex-attach-'))
  try {
    const proc = spawn('python3', ['-c', SERVER, join(dir, 'attach')], { stdio: ['ignore', 'pipe', 'inherit'] })
    let said = ''
    const saw = (what: string): Promise<void> => new Promise((resolve) => {
      const check = (): void => { if (said.includes(what)) { proc.stdout?.off('data', on); resolve() } }
      const on = (d: Buffer): void => { said += d.toString(); check() }
      proc.stdout?.on('data', on)
      check()
    })
    await saw('ready')
    const sock = await connectAttachSocket(dir)
    await saw('closed')
    await new Promise((resolve) => setTimeout(resolve, 100)) // the packets and the end are read and held
    const out = sink()
    const err = sink()
    const how = await pumpAttach(sock, { stdout: out.w, stderr: err.w })
    // Checked in the continuation itself, before any other tick: what a caller does next (restore the terminal,
    // exit) must come after the output.
    assert.equal(how, 'eof')
    assert.deepEqual(out.got.join(''), '37 123\r\n[xterm]\r\n')
    assert.deepEqual(err.got.join(''), 'oops\n')
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
