// The CLI's surface: --help on every command, podman's one-line errors for bad flags, and info's template fields.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { makeStore, type Store } from '../helpers'

let s: Store

before(() => { s = makeStore('cli') })
after(async () => { await s.cleanup() })

const COMMANDS = ['run', 'create', 'start', 'stop', 'kill', 'restart', 'pause', 'unpause', 'rm', 'wait', 'attach', 'exec',
  'ps', 'inspect', 'logs', 'top', 'images', 'tag', 'rmi', 'import', 'load', 'info', 'version', 'events', 'container',
  'image', 'system']

test('--help works on every command: exit 0, a Usage: line naming the command', async () => {
  const results = await Promise.all(COMMANDS.map((c) => s.conex([c, '--help'])))
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `${COMMANDS[i]} --help: ${r.stderr}`)
    assert.equal(r.stderr, '')
    const lines = r.out.split('\n')
    const at = lines.indexOf('Usage:')
    assert.ok(at > 0, `${COMMANDS[i]} --help has no Usage: line`)
    assert.ok(lines[at + 1].startsWith(`  conex ${COMMANDS[i]} `), `${COMMANDS[i]}: ${lines[at + 1]}`)
  })
  // -h and the group forms too.
  for (const argv of [['ps', '-h'], ['container', 'ls', '--help'], ['image', 'ls', '--help'], ['--help']]) {
    const r = await s.conex(argv)
    assert.equal(r.code, 0, argv.join(' '))
    assert.match(r.out, /^Usage:$/m)
  }
})

test('an unknown flag is exit 125 with one line on stderr', async () => {
  for (const argv of [['ps', '--bogus'], ['run', '--bogus', 'busybox', 'true'], ['rm', '--bogus', 'x']]) {
    const r = await s.conex(argv)
    assert.equal(r.code, 125)
    assert.equal(r.out, '')
    assert.match(r.stderr, /^Error: unknown flag: --bogus( \(see 'conex \w+ --help'\))?\n$/)
  }
  const short = await s.conex(['ps', '-Z'])
  assert.equal(short.code, 125)
  assert.match(short.stderr, /^Error: unknown shorthand flag: 'Z' in -Z/)
  const cmd = await s.conex(['frobnicate'])
  assert.equal(cmd.code, 125)
  assert.equal(cmd.stderr, 'Error: unrecognized command `conex frobnicate` (see \'conex --help\')\n')
  const missing = await s.conex(['inspect'])
  assert.equal(missing.code, 125)
  assert.equal(missing.stderr, 'Error: "conex inspect" requires at least 1 argument (see \'conex inspect --help\')\n')
})

test('info --format reads podman\'s field names', async () => {
  assert.equal((await s.conex(['info', '--format', '{{.Host.OCIRuntime.Name}}'])).out, 'runc\n')
  assert.equal((await s.conex(['info', '--format', '{{.Store.GraphRoot}}'])).out, s.root + '\n')
  assert.equal((await s.conex(['info', '--format', '{{.Store.RunRoot}}'])).out, s.runroot + '\n')
  const json = JSON.parse((await s.conex(['info'])).out) as { host: { ociRuntime: { name: string } }, store: { graphRoot: string } }
  assert.equal(json.host.ociRuntime.name, 'runc')
  assert.equal(json.store.graphRoot, s.root)
  assert.equal((await s.conex(['--version'])).out, 'conex version 0.1.0\n')
})
