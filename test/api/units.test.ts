// The API's pure parts, without a runtime: the schema validator (Go's decoding rules), query parsing, the router
// and its version prefixes, stdcopy frames, and the Docker shapes. Property tests (fast-check) check that no input
// makes the validators throw anything but a 400.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import fc from 'fast-check'
import { EngineError } from '../../src/errors'
import { s, validate, parseJson } from '../../src/api/schema'
import { parseQuery, q, parseBool, parseFilters } from '../../src/api/query'
import { Router, splitVersion, compareVersions } from '../../src/api/router'
import { FrameWriter, frame } from '../../src/api/stdcopy'
import { humanDuration, rfc3339 } from '../../src/api/docker-shapes'
import { ExecCreateSchema, toExecOptions } from '../../src/api/routes/exec'
import { CreateBodySchema, toCreateOptions, parseBind } from '../../src/api/routes/container-create'
import { demux } from './lib'

const is400 = (e: unknown): boolean => e instanceof EngineError && e.httpStatus === 400

test('schema: keys match case-insensitively, an exact match wins, unknown keys and nulls are dropped', () => {
  const sch = s.obj('T', { Tty: s.bool(), Cmd: s.arr(s.str()) })
  assert.deepEqual(validate(sch, { tty: true, CMD: ['a'], other: 1, Cmd: null }), { Tty: true, Cmd: ['a'] })
  assert.deepEqual(validate(sch, { tty: false, Tty: true }), { Tty: true })
  assert.deepEqual(validate(sch, { Tty: true, tty: false }), { Tty: true })
})

test('schema: wrong types are 400s worded like Go\'s decoder', () => {
  const sch = s.obj('ExecConfig', { Tty: s.bool(), Cmd: s.arr(s.str()), N: s.int({ min: 0, max: 10 }) })
  assert.throws(() => validate(sch, { Tty: 'yes' }), /^EngineError: json: cannot unmarshal string into Go struct field ExecConfig\.Tty of type bool$/)
  // Go names the element type for a bad element.
  assert.throws(() => validate(sch, { Cmd: [1] }), /cannot unmarshal number into Go struct field ExecConfig\.Cmd of type string$/)
  assert.throws(() => validate(sch, { N: 1.5 }), /cannot unmarshal number 1\.5/)
  assert.throws(() => validate(sch, { N: 11 }), /N 11 is out of range \[0, 10\]/)
  assert.throws(() => validate(sch, 'str'), /cannot unmarshal string into Go value of type ExecConfig/)
  assert.deepEqual(validate(s.obj('C', { Cmd: s.strslice() }), { Cmd: 'ls -l' }), { Cmd: ['ls -l'] })
  assert.throws(() => parseJson(Buffer.from('{"a":')), (e) => is400(e) && /^invalid JSON: /.test((e as Error).message))
  assert.equal(parseJson(Buffer.alloc(0)), undefined)
})

test('property: no JSON value makes the exec or create schemas throw anything but a 400', () => {
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    for (const [sch, map] of [[ExecCreateSchema, toExecOptions], [CreateBodySchema, (b: unknown) => toCreateOptions(b as never, 'n')]] as const) {
      try { (map as (b: unknown) => unknown)(validate(sch, v)) } catch (e) { if (!(e instanceof EngineError) || e.httpStatus >= 500 && e.httpStatus !== 501) throw e }
    }
  }), { numRuns: 500 })
})

test('query: booleans, integers with bounds, required values, filters in both of Docker\'s forms', () => {
  assert.equal(parseBool('all', '1'), true)
  assert.equal(parseBool('all', 'False'), false)
  assert.throws(() => parseBool('all', 'maybe'), is400)
  const spec = { h: q.int({ min: 0, max: 1000, required: true }), all: q.bool(), c: q.str({ enum: ['a', 'b'] }) }
  assert.deepEqual(parseQuery(spec, new URLSearchParams('h=24&all=true&c=a&x=ignored')), { h: 24, all: true, c: 'a' })
  for (const bad of ['h=foo', 'h=-1', 'h=4294967296', 'h=1.5', 'all=2', 'h=1&c=z', '']) assert.throws(() => parseQuery(spec, new URLSearchParams(bad)), is400, bad)
  assert.deepEqual([...parseFilters('{"status":["running"],"name":{"a":true,"b":false}}', ['status', 'name'])], [['status', ['running']], ['name', ['a']]])
  assert.throws(() => parseFilters('{"nope":["x"]}', ['status']), /invalid filter 'nope'/)
  assert.throws(() => parseFilters('{"status":[1]}', ['status']), is400)
})

test('property: no query string makes parseQuery throw anything but a 400', () => {
  const spec = { h: q.int({ min: 0, max: 1000 }), all: q.bool(), filters: q.filters('status'), t: q.str({ pattern: /^\d+$/ }) }
  fc.assert(fc.property(fc.dictionary(fc.constantFrom('h', 'all', 'filters', 't', 'x'), fc.string()), (d) => {
    try { parseQuery(spec, new URLSearchParams(d)) } catch (e) { if (!is400(e)) throw e }
  }), { numRuns: 500 })
})

test('router: params, greedy image names, HEAD falls back to GET, unknown routes are 404 "page not found"', () => {
  const r = new Router<{ method: string, path: string, n: number }>()
  r.add({ method: 'GET', path: '/containers/{id}/json', n: 1 }).add({ method: 'GET', path: '/images/{name*}/json', n: 2 }).add({ method: 'DELETE', path: '/images/{name*}', n: 3 }).add({ method: 'GET', path: '/images/json', n: 4 })
  assert.deepEqual(r.match('GET', '/containers/abc/json'), { route: { method: 'GET', path: '/containers/{id}/json', n: 1 }, params: { id: 'abc' } })
  assert.equal(r.match('GET', '/images/docker.io/library/busybox:1/json').params.name, 'docker.io/library/busybox:1')
  assert.equal(r.match('GET', '/images/json').route.n, 4)
  assert.equal(r.match('DELETE', '/images/a/b').params.name, 'a/b')
  assert.equal(r.match('HEAD', '/containers/x/json').route.n, 1)
  assert.equal(r.match('GET', '/containers/a%2Fb/json').params.id, 'a/b')
  assert.throws(() => r.match('GET', '/containers//json'), (e) => e instanceof EngineError && e.httpStatus === 404 && e.message === 'page not found')
  assert.throws(() => r.match('POST', '/containers/x/json'), (e) => e instanceof EngineError && e.httpStatus === 404)
})

test('versions: /v1.24 to /v1.47 pass, others are dockerd\'s 400; libpod prefixes are recognised', () => {
  assert.deepEqual(splitVersion('/v1.41/containers/json'), { path: '/containers/json', apiVersion: '1.41' })
  assert.deepEqual(splitVersion('/_ping'), { path: '/_ping', apiVersion: '1.47' })
  assert.equal(splitVersion('/v4.3.1/libpod/_ping').libpodVersion, '4.3.1')
  assert.equal(splitVersion('/libpod/info').libpodVersion !== undefined, true)
  assert.throws(() => splitVersion('/v1.12/version'), /^EngineError: client version 1\.12 is too old\. Minimum supported API version is 1\.24, please upgrade your client to a newer version$/)
  assert.throws(() => splitVersion('/v1.48/version'), /too new\. Maximum supported API version is 1\.47/)
  assert.throws(() => splitVersion('/v9.0.0/libpod/_ping'), is400)
  assert.equal(compareVersions('1.9', '1.10'), -1)
  assert.equal(compareVersions('1.47', '1.47.0'), 0)
})

test('stdcopy: one frame per write, header [stream,0,0,0,BE32 len]; empty writes send nothing; tty is raw', async () => {
  const got: Buffer[] = []
  const sink = new Writable({ write (c: Buffer, _e, cb) { got.push(c); cb() } })
  const out = new FrameWriter(sink, 1)
  const err = new FrameWriter(sink, 2)
  out.write(Buffer.from('ab'))
  err.write(Buffer.alloc(0))
  err.write(Buffer.from('c'))
  const raw = new FrameWriter(sink, 0)
  raw.write(Buffer.from('xyz'))
  await new Promise((resolve) => raw.end(resolve))
  assert.equal(Buffer.concat(got).toString('hex'), '01000000000000026162' + '020000000000000163' + '78797a')
  assert.deepEqual(frame(2, Buffer.alloc(70000)).subarray(0, 8), Buffer.from([2, 0, 0, 0, 0, 1, 0x11, 0x70]))
})

test('stdcopy: writes made while corked (one batch of conmon packets) become one frame, in order; raw is joined', async () => {
  const got: Buffer[] = []
  const sink = new Writable({ write (c: Buffer, _e, cb) { got.push(c); cb() } })
  const out = new FrameWriter(sink, 1)
  out.cork()
  out.write(Buffer.from('ab'))
  out.write(Buffer.alloc(0))
  out.write(Buffer.from('cde'))
  out.uncork()
  const raw = new FrameWriter(sink, 0)
  raw.cork()
  raw.write(Buffer.from('x'))
  raw.write(Buffer.from('yz'))
  raw.uncork()
  await new Promise((resolve) => raw.end(resolve))
  assert.equal(Buffer.concat(got).toString('hex'), '01000000000000056162636465' + '78797a')
})

test('property: frames split back into exactly what was written', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(1, 2), fc.uint8Array({ minLength: 1, maxLength: 300 }))), (writes) => {
    const joined = Buffer.concat(writes.map(([st, d]) => frame(st, Buffer.from(d))))
    assert.deepEqual(demux(joined).map((f) => [f.stream, [...f.data]]), writes.map(([st, d]) => [st, [...d]]))
  }))
})

test('shapes: Docker durations and times, binds', () => {
  assert.equal(humanDuration(500), 'Less than a second')
  assert.equal(humanDuration(1000), '1 second')
  assert.equal(humanDuration(90_000), 'About a minute')
  assert.equal(humanDuration(3 * 3600_000), '3 hours')
  assert.equal(rfc3339(0), '0001-01-01T00:00:00Z')
  assert.equal(rfc3339(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024-01-02T03:04:05.678000000Z')
  assert.deepEqual(parseBind('/a:/b:ro'), { source: '/a', destination: '/b', readonly: true })
  assert.throws(() => parseBind('/a:/b:bogus'), is400)
  assert.throws(() => parseBind('vol:/b'), (e) => e instanceof EngineError && e.httpStatus === 501)
})

test('exec options: TERM only with a tty, "" detach keys mean the default, ConsoleSize only with a tty', () => {
  assert.deepEqual(toExecOptions({ Cmd: ['sh'], Tty: true, ConsoleSize: [10, 20], DetachKeys: '' }), {
    command: ['sh'], env: undefined, user: undefined, workdir: undefined, tty: true, attachStdin: false, attachStdout: false, attachStderr: false,
    privileged: false, detachKeys: undefined, consoleSize: [10, 20], addTerm: true,
  })
  const plain = toExecOptions({ Cmd: ['sh'], ConsoleSize: [10, 20] })
  assert.equal(plain.addTerm, false)
  assert.equal(plain.consoleSize, undefined)
  assert.throws(() => toExecOptions({}), { message: 'No exec command specified' })
  assert.throws(() => toExecOptions({ Cmd: [] }, { libpod: true }), { message: 'must provide a non-empty command to start an exec session: invalid argument' })
})
