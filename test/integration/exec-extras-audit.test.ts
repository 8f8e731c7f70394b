// The exec audit trail (issue #7) through `conex events`: every exec create, start and exit with who asked, the
// container, the command, the exit code and the duration; podman's --filter, --format, --since and --stream.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { SKIP, startFixture, waitFor } from './exec-common'
import { CONEX_BIN, type Store } from '../helpers'

interface EventDoc { ID: string, Type: string, Status: string, Name: string, Time: string, TimeNano: string, Attributes: Record<string, string> }

describe('exec audit events', { skip: SKIP }, () => {
  let store: Store
  let c1: string

  before(async () => { ({ store, c1 } = await startFixture('exec-extras-audit')) })
  after(async () => { if (store !== undefined) await store.cleanup() })

  const events = async (args: string[]): Promise<EventDoc[]> => {
    const r = await store.conex(['events', '--stream=false', ...args])
    assert.equal(r.code, 0, r.stderr)
    return r.out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as EventDoc)
  }

  test('exec_create, exec_start and exec_died carry container, command, requester, exit code and duration', async () => {
    const since = new Date().toISOString()
    const r = await store.conex(['exec', 'c1', 'sh', '-c', 'sleep 0.3; exit 3'])
    assert.equal(r.code, 3)
    const evs = await events(['--since', since, '--filter', 'type=exec', '--format', 'json'])
    assert.deepEqual(evs.map((e) => e.Status), ['exec_create', 'exec_start', 'exec_died'])
    const [create, start, died] = evs
    assert.ok(evs.every((e) => e.ID === create.ID && e.Type === 'exec' && e.Attributes.containerID === c1 && e.Attributes.execID === create.ID))
    assert.equal(create.Attributes.command, 'sh -c sleep 0.3; exit 3')
    assert.equal(create.Attributes.name, 'c1')
    assert.equal(create.Attributes.requester, 'cli:uid=0')
    assert.equal(start.Attributes.requester, 'cli:uid=0')
    assert.match(start.Attributes.pid, /^\d+$/)
    assert.equal(died.Attributes.exitCode, '3')
    assert.equal(died.Attributes.command, create.Attributes.command)
    assert.equal(died.Attributes.name, 'c1')
    const ms = Number(died.Attributes.durationMs)
    assert.ok(ms >= 300 && ms < 20_000, `durationMs ${died.Attributes.durationMs}`)
    assert.ok(BigInt(create.TimeNano) <= BigInt(start.TimeNano) && BigInt(start.TimeNano) <= BigInt(died.TimeNano))
  })

  test('--filter event=, container= and exec=; a Go template --format; --since excludes older events', async () => {
    const r = await store.conex(['exec', 'c1', 'true'])
    assert.equal(r.code, 0)
    const mark = new Date(Date.now() + 5).toISOString()
    await new Promise((resolve) => setTimeout(resolve, 20))
    const r2 = await store.conex(['exec', 'c1', 'sh', '-c', 'exit 9'])
    assert.equal(r2.code, 9)
    const died = await events(['--since', mark, '--filter', 'event=exec_died', '--filter', 'container=c1', '--format', 'json'])
    assert.equal(died.length, 1, 'only the exec after --since')
    assert.equal(died[0].Attributes.exitCode, '9')
    const one = await events(['--filter', `exec=${died[0].ID.slice(0, 12)}`, '--format', 'json'])
    assert.deepEqual(one.map((e) => e.Status), ['exec_create', 'exec_start', 'exec_died'])
    const t = await store.conex(['events', '--stream=false', '--since', mark, '--filter', 'type=exec', '--format', '{{.Status}} {{.Attributes.exitCode}}'])
    assert.equal(t.code, 0, t.stderr)
    assert.match(t.out, /^exec_died 9$/m)
  })

  test('--stream delivers an exec\'s events as they happen', async () => {
    const since = new Date().toISOString()
    const child = spawn(CONEX_BIN, [...store.flags, 'events', '--since', since, '--filter', 'type=exec', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    try {
      // The first exec may run before the stream is set up: --since covers that; the wait bounds the rest.
      const r = await store.conex(['exec', 'c1', 'sh', '-c', 'exit 4'])
      assert.equal(r.code, 4)
      await waitFor('exec_died on the stream', () => /"Status":"exec_died".*"exitCode":"4"/.test(out) ? true : undefined, 10_000)
    } finally {
      child.kill('SIGTERM')
    }
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    assert.ok(code === 0 || code === null, `events exits cleanly on SIGTERM (got ${String(code)})`)
  })
})
