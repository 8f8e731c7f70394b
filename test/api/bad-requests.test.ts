// Bad requests, as a table: malformed JSON, wrong types, oversized bodies, ids that cannot name anything, resize
// sizes out of range, unknown query values, unsupported versions and routes. Each gets its 4xx and Docker's
// {"message": ...} body, never a 500, and the service answers the next request as if nothing happened.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startApi, type Api } from './lib'

let api: Api
let execId: string

before(async () => {
  api = await startApi('bad-requests')
  const r = await api.store.conex(['run', '-d', '--name', 'b1', 'busybox', 'sleep', '1000'])
  assert.equal(r.code, 0, r.stderr)
  const ex = await api.call('POST', '/containers/b1/exec', { Cmd: ['sleep', '30'], Tty: true })
  assert.equal(ex.status, 201, ex.text)
  execId = ex.json().Id
})
after(async () => { await api.stop() })

interface Row { name: string, method: string, path: string | (() => string), body?: unknown, status: number, message: RegExp }

const big = Buffer.alloc(2 * 1024 * 1024, 0x20)

const rows: Row[] = [
  { name: 'malformed JSON', method: 'POST', path: '/containers/b1/exec', body: '{"Cmd": [', status: 400, message: /^invalid JSON: / },
  { name: 'a string where Cmd is a list', method: 'POST', path: '/containers/b1/exec', body: { Cmd: 'ls' }, status: 400, message: /^json: cannot unmarshal string into Go struct field ExecConfig\.Cmd of type \[\]string$/ },
  { name: 'a string where Tty is a bool', method: 'POST', path: '/containers/b1/exec', body: { Cmd: ['ls'], Tty: 'yes' }, status: 400, message: /^json: cannot unmarshal string into Go struct field ExecConfig\.Tty of type bool$/ },
  { name: 'keys match case-insensitively (tty)', method: 'POST', path: '/containers/b1/exec', body: { cmd: ['ls'], tty: 1 }, status: 400, message: /ExecConfig\.Tty of type bool/ },
  { name: 'an array as the body', method: 'POST', path: '/containers/b1/exec', body: [], status: 400, message: /^json: cannot unmarshal array into Go value of type ExecConfig$/ },
  { name: 'no command', method: 'POST', path: '/containers/b1/exec', body: { Cmd: [] }, status: 400, message: /^No exec command specified$/ },
  { name: 'a null body (Go: zero value)', method: 'POST', path: '/containers/b1/exec', body: 'null', status: 400, message: /^No exec command specified$/ },
  { name: 'an env entry with an empty name', method: 'POST', path: '/containers/b1/exec', body: { Cmd: ['ls'], Env: ['=x'] }, status: 400, message: /the name must be non-empty/ },
  { name: 'a console size of one number', method: 'POST', path: '/containers/b1/exec', body: { Cmd: ['ls'], ConsoleSize: [1] }, status: 400, message: /exactly 2/ },
  { name: 'a negative console size', method: 'POST', path: '/containers/b1/exec', body: { Cmd: ['ls'], ConsoleSize: [-1, 5] }, status: 400, message: /out of range/ },
  { name: 'a fractional integer', method: 'POST', path: '/containers/b1/exec', body: { Cmd: ['ls'], ConsoleSize: [1.5, 5] }, status: 400, message: /cannot unmarshal number 1.5/ },
  { name: 'a body over 1 MiB', method: 'POST', path: '/containers/b1/exec', body: big, status: 413, message: /too large/ },
  { name: 'a relative WorkingDir', method: 'POST', path: '/containers/b1/exec', body: { Cmd: ['pwd'], WorkingDir: 'tmp' }, status: 400, message: /^the working directory 'tmp' is invalid, it needs to be an absolute path$/ },
  { name: 'bad detach keys', method: 'POST', path: '/containers/b1/exec', body: { Cmd: ['ls'], DetachKeys: 'ctrl-ä,nope' }, status: 400, message: /detach keys/ },
  { name: 'a start body with a string Detach', method: 'POST', path: () => `/exec/${execId}/start`, body: { Detach: 'no' }, status: 400, message: /ExecStartConfig\.Detach of type bool/ },
  { name: 'a container id that climbs out', method: 'GET', path: '/containers/..%2F..%2Fetc/json', status: 400, message: /^invalid name or ID "\.\.\/\.\.\/etc"$/ },
  { name: 'a dot-dot container id', method: 'GET', path: '/containers/%2e%2e/json', status: 400, message: /invalid name or ID/ },
  { name: 'a NUL in an id', method: 'GET', path: '/containers/a%00b/json', status: 400, message: /invalid name or ID/ },
  { name: 'broken percent-encoding', method: 'GET', path: '/containers/%zz/json', status: 400, message: /percent-encoding/ },
  { name: 'an exec id that climbs out', method: 'GET', path: '/exec/..%2Fx/json', status: 400, message: /invalid name or ID/ },
  { name: 'an image name that climbs out', method: 'GET', path: '/images/a/../../etc/json', status: 400, message: /invalid image reference/ },
  // dockerd's words under the Docker API; podman's under /libpod.
  { name: 'an unknown container', method: 'GET', path: '/containers/no-such/json', status: 404, message: /^No such container: no-such$/ },
  { name: 'an unknown container (libpod)', method: 'GET', path: '/v4.0.0/libpod/containers/no-such/json', status: 404, message: /^no container with name or ID "no-such" found: no such container$/ },
  { name: 'an unknown exec session', method: 'GET', path: `/exec/${'0'.repeat(64)}/json`, status: 404, message: /^No such exec instance: 0{64}$/ },
  { name: 'an unknown exec session (libpod)', method: 'GET', path: `/v4.0.0/libpod/exec/${'0'.repeat(64)}/json`, status: 404, message: /^no exec session with ID 0{64} found: no such exec session$/ },
  { name: 'resize h=foo', method: 'POST', path: () => `/exec/${execId}/resize?h=foo&w=80`, status: 400, message: /"h": "foo" is not an integer/ },
  { name: 'resize h=-1', method: 'POST', path: () => `/exec/${execId}/resize?h=-1&w=80`, status: 400, message: /"h": -1 is out of range \[0, 1000\]/ },
  { name: 'resize h=4294967296', method: 'POST', path: () => `/exec/${execId}/resize?h=4294967296&w=80`, status: 400, message: /out of range/ },
  { name: 'resize w above conmon\'s limit', method: 'POST', path: () => `/exec/${execId}/resize?h=24&w=1001`, status: 400, message: /"w": 1001 is out of range/ },
  { name: 'resize without w', method: 'POST', path: () => `/exec/${execId}/resize?h=24`, status: 400, message: /missing query parameter "w"/ },
  { name: 'resize of a session not running', method: 'POST', path: () => `/exec/${execId}/resize?h=24&w=80`, status: 409, message: /not running/ },
  { name: 'all=maybe', method: 'GET', path: '/containers/json?all=maybe', status: 400, message: /"all": "maybe" is not a boolean/ },
  { name: 'filters that are not JSON', method: 'GET', path: '/containers/json?filters={bad', status: 400, message: /^invalid filter/ },
  { name: 'an unknown filter', method: 'GET', path: '/containers/json?filters=' + encodeURIComponent('{"nope":["x"]}'), status: 400, message: /^invalid filter 'nope'$/ },
  { name: 'an unknown status', method: 'GET', path: '/containers/json?filters=' + encodeURIComponent('{"status":["sleeping"]}'), status: 400, message: /^invalid filter 'status=sleeping'$/ },
  { name: 'an unknown signal', method: 'POST', path: '/containers/b1/kill?signal=SIGFOO', status: 400, message: /invalid signal/ },
  { name: 'an unknown wait condition', method: 'POST', path: '/containers/b1/wait?condition=whenever', status: 400, message: /"condition": "whenever"/ },
  { name: 'logs of no stream', method: 'GET', path: '/containers/b1/logs', status: 400, message: /at least one stream/ },
  { name: 'a stop timeout that is not a number', method: 'POST', path: '/containers/b1/stop?t=soon', status: 400, message: /"t": "soon" is not an integer/ },
  { name: 'a create body with a number for Image', method: 'POST', path: '/containers/create', body: { Image: 5 }, status: 400, message: /Config\.Image of type string/ },
  { name: 'a container name with a slash', method: 'POST', path: '/containers/create?name=a/b', body: { Image: 'busybox' }, status: 400, message: /"name": "a\/b"/ },
  { name: 'a relative WorkingDir at create', method: 'POST', path: '/containers/create', body: { Image: 'busybox', WorkingDir: 'tmp' }, status: 400, message: /^the working directory 'tmp' is invalid, it needs to be an absolute path$/ },
  { name: 'a named volume', method: 'POST', path: '/containers/create', body: { Image: 'busybox', HostConfig: { Binds: ['data:/data'] } }, status: 501, message: /named volume "data" is not supported/ },
  { name: 'a pull from a registry', method: 'POST', path: '/images/create?fromImage=quay.io/nope/nope&tag=1', status: 501, message: /cannot pull/ },
  { name: 'an API version too old', method: 'GET', path: '/v1.12/version', status: 400, message: /^client version 1\.12 is too old\. Minimum supported API version is 1\.24, please upgrade your client to a newer version$/ },
  { name: 'an API version too new', method: 'GET', path: '/v1.99/version', status: 400, message: /^client version 1\.99 is too new\. Maximum supported API version is 1\.47$/ },
  { name: 'an unknown route', method: 'GET', path: '/v1.47/no/such/route', status: 404, message: /^page not found$/ },
  { name: 'a known path with the wrong method', method: 'DELETE', path: '/_ping', status: 404, message: /^page not found$/ },
]

for (const row of rows) {
  test(`bad request: ${row.name} → ${row.status}`, async () => {
    const path = typeof row.path === 'function' ? row.path() : row.path
    const r = await api.call(row.method, path, row.body)
    assert.equal(r.status, row.status, `${row.method} ${path}: ${r.text}`)
    assert.match(String(r.headers['content-type']), /^application\/json/)
    const msg = r.json().message as string
    assert.match(msg, row.message)
  })
}

test('a chunked body over the limit is cut off with 413', async () => {
  const head = 'POST /containers/b1/exec HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'
  const chunk = Buffer.alloc(256 * 1024, 0x20)
  const parts: Buffer[] = [Buffer.from(head)]
  for (let i = 0; i < 8; i++) parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
  parts.push(Buffer.from('0\r\n\r\n'))
  const reply = (await api.raw(Buffer.concat(parts))).toString()
  assert.match(reply, /^HTTP\/1\.1 413 /)
  assert.match(reply, /"message":"request body is too large/)
})

test('HTTP garbage gets a 400 and the connection closed', async () => {
  const reply = (await api.raw('NOT HTTP AT ALL\r\n\r\n')).toString()
  assert.match(reply, /^HTTP\/1\.1 400 Bad Request/)
})

test('a request cut off mid-body does not hurt the service', async () => {
  await api.raw('POST /containers/b1/exec HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"Cmd":', 300)
  await api.raw('POST /exec/abc/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 50\r\n\r\n{', 300)
})

test('after all of that the service is up and well', async () => {
  const r = await api.call('GET', '/_ping')
  assert.equal(r.status, 200)
  assert.equal(r.text, 'OK')
  const ex = await api.call('POST', '/containers/b1/exec', { Cmd: ['true'] })
  assert.equal(ex.status, 201)
  assert.doesNotMatch(api.log(), /internal error/)
})
