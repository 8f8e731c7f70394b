import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EngineError } from '../../errors'
import { encodeFrame, errorStatus, exitStatus, negotiateSubprotocol, parseResize } from './k8s-channels'

test('negotiation prefers v5, accepts v4, refuses the rest', () => {
  assert.equal(negotiateSubprotocol(['v4.channel.k8s.io', 'v5.channel.k8s.io']), 'v5.channel.k8s.io')
  assert.equal(negotiateSubprotocol([' v4.channel.k8s.io']), 'v4.channel.k8s.io')
  assert.equal(negotiateSubprotocol(['channel.k8s.io', 'base64.channel.k8s.io', 'v3.channel.k8s.io']), undefined)
  assert.equal(negotiateSubprotocol([]), undefined)
})

test('frames are the channel byte, then the payload', () => {
  assert.deepEqual(encodeFrame(1, 'hi'), Buffer.from([1, 0x68, 0x69]))
  assert.deepEqual(encodeFrame(2, Buffer.alloc(0)), Buffer.from([2]))
})

test('exit statuses as kubectl reads them', () => {
  assert.deepEqual(exitStatus(['true'], 0), { metadata: {}, status: 'Success' })
  assert.equal(JSON.stringify(exitStatus(['sh', '-c', 'exit 3'], 3)),
    '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}')
  const notFound = errorStatus(['nope'], new EngineError('EXEC_NOT_FOUND', 'executable file `nope` not found'))
  assert.equal(notFound.reason, 'NonZeroExitCode')
  assert.deepEqual(notFound.details, { causes: [{ reason: 'ExitCode', message: '127' }] })
  const other = errorStatus(['x'], new EngineError('CONTAINER_NOT_RUNNING', 'container is not running'))
  assert.deepEqual(other, { metadata: {}, status: 'Failure', message: 'container is not running', reason: 'InternalError', code: 409 })
})

test('resize payloads', () => {
  assert.deepEqual(parseResize(Buffer.from('{"Width":80,"Height":24}')), { width: 80, height: 24 })
  assert.equal(parseResize(Buffer.from('{"Width":0,"Height":24}')), undefined)
  assert.equal(parseResize(Buffer.from('{"Width":80}')), undefined)
  assert.equal(parseResize(Buffer.from('{"Width":5000,"Height":24}')), undefined)
  assert.equal(parseResize(Buffer.from('not json')), undefined)
})
