import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { parsePipeMessage, PipeReader } from './pipe-message'

test('parsePipeMessage: conmon\'s {"data": N[, "message": "..."]}, and the older pid/exit_code keys', () => {
  assert.deepEqual(parsePipeMessage('{"data": 4242}'), { data: 4242 })
  assert.deepEqual(parsePipeMessage('{"data": -1, "message": "executable file not found in $PATH"}'), { data: -1, message: 'executable file not found in $PATH' })
  assert.deepEqual(parsePipeMessage('{"pid": 17}'), { data: 17 })
  assert.deepEqual(parsePipeMessage('{"exit_code": 3, "message": "x"}'), { data: 3, message: 'x' })
  assert.deepEqual(parsePipeMessage('{"data": 0, "message": 5}'), { data: 0 })
})

test('parsePipeMessage: anything else is not a message', () => {
  for (const line of ['', 'garbage', '{}', '{"data": "12"}', '{"data": 1.5}', '[1]', 'null', '{"data": null}']) {
    assert.equal(parsePipeMessage(line), undefined, line)
  }
})

test('PipeReader: messages in order across arbitrary chunking, garbage lines skipped, EOF sticky', async () => {
  const pipe = new PassThrough()
  const r = new PipeReader(pipe)
  const first = r.next()
  pipe.write('{"data": 1')
  pipe.write('23}\nnot json\n{"data": -1, "mess')
  pipe.write('age": "boom"}\n{"data": 7}')
  assert.deepEqual(await first, { data: 123 })
  assert.deepEqual(await r.next(), { data: -1, message: 'boom' })
  // The last message has no newline: it is delivered at end of stream.
  pipe.end()
  assert.deepEqual(await r.next(), { data: 7 })
  assert.equal(await r.next(), undefined)
  assert.equal(await r.next(), undefined)
})

test('PipeReader: waiters queue up before data arrives; an error ends the stream', async () => {
  const pipe = new PassThrough()
  const r = new PipeReader(pipe)
  const a = r.next()
  const b = r.next()
  pipe.write('{"data": 1}\n{"data": 2}\n')
  assert.deepEqual(await Promise.all([a, b]), [{ data: 1 }, { data: 2 }])
  const c = r.next()
  pipe.destroy(new Error('EPIPE'))
  assert.equal(await c, undefined)
})

test('PipeReader fed by the caller: lines split on bytes, so a UTF-8 character cut between two reads decodes whole', async () => {
  const r = new PipeReader()
  const line = Buffer.from('{"data": -1, "message": "ungültig: ✗"}\n{"data": 5}\n')
  const cut = line.indexOf(Buffer.from('✗')) + 1 // inside the three bytes of ✗
  r.feed(line.subarray(0, cut))
  const first = r.next()
  r.feed(line.subarray(cut))
  assert.deepEqual(await first, { data: -1, message: 'ungültig: ✗' })
  assert.deepEqual(await r.next(), { data: 5 })
  const eof = r.next()
  r.end()
  assert.equal(await eof, undefined)
  r.feed(Buffer.from('{"data": 9}\n')) // nothing after the end
  assert.equal(await r.next(), undefined)
})
