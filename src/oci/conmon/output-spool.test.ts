import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Writable } from 'node:stream'
import { HIGH_WATER, OutputSpool } from './output-spool'

// A sink that takes one chunk per `ms` milliseconds: a slow API client.
function slowSink (ms: number, onChunk: (b: Buffer) => void): Writable {
  return new Writable({ highWaterMark: 16 * 1024, write (chunk: Buffer, _enc, cb) { onChunk(chunk); setTimeout(cb, ms) } })
}

test('slow sinks get every packet in order (per stream) while their queues stay near the high-water mark', async () => {
  const sent = [createHash('sha256'), createHash('sha256')]
  const got = [createHash('sha256'), createHash('sha256')]
  let gotBytes = 0
  let maxQueued = 0
  const out = slowSink(0, (b) => { got[0].update(b); gotBytes += b.length })
  const err = slowSink(0, (b) => { got[1].update(b); gotBytes += b.length })
  const spool = new OutputSpool({ deliver: (id, d) => { (id === 3 ? err : out).write(d); maxQueued = Math.max(maxQueued, out.writableLength + err.writableLength) }, sinks: [out, err] })
  const total = 4 * HIGH_WATER
  let pushed = 0
  for (let i = 0; pushed < total; i++) {
    const d = Buffer.alloc(8192, i % 251)
    d.writeUInt32BE(i, 0)
    sent[i % 7 === 0 ? 1 : 0].update(d)
    spool.push(i % 7 === 0 ? 3 : 2, d)
    pushed += d.length
  }
  assert.ok(spool.spooled > 0, 'the excess went to disk')
  assert.ok(maxQueued <= HIGH_WATER + 8192, `sinks queued ${maxQueued} bytes`)
  await spool.whenEmpty()
  await new Promise<void>((resolve) => { let n = 0; const fin = (): void => { if (++n === 2) resolve() }; out.end(fin); err.end(fin) })
  assert.equal(gotBytes, pushed)
  assert.equal(got[0].digest('hex'), sent[0].digest('hex'), 'stdout: same bytes in the same order')
  assert.equal(got[1].digest('hex'), sent[1].digest('hex'), 'stderr: same bytes in the same order')
  assert.equal(spool.spooled, 0)
  spool.close()
})

test('a fast sink never spools; close drops what waits and releases whenEmpty', async () => {
  const chunks: Buffer[] = []
  const fast = new Writable({ write (c: Buffer, _e, cb) { chunks.push(c); cb() } })
  const spool = new OutputSpool({ deliver: (_id, d) => { fast.write(d) }, sinks: [fast] })
  for (let i = 0; i < 100; i++) spool.push(2, Buffer.from(`line ${i}\n`))
  assert.equal(spool.spooled, 0)
  assert.equal(Buffer.concat(chunks).toString().split('\n').length, 101)
  await spool.whenEmpty()
  const stuck = new Writable({ highWaterMark: 1, write (_c, _e, _cb) { /* never completes */ } })
  const s2 = new OutputSpool({ deliver: (_id, d) => { stuck.write(d) }, sinks: [stuck] })
  s2.push(2, Buffer.alloc(HIGH_WATER + 1))
  s2.push(2, Buffer.from('waits on disk'))
  assert.ok(s2.spooled > 0)
  const waiting = s2.whenEmpty()
  s2.close()
  await waiting
})
