// Exec sessions created but never started are removed after exec_created_timeout_seconds: by the service's periodic
// sweep, and by any CLI command that opens the store. Running sessions and recently created ones stay.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { SKIP } from './exec-common'
import { startApi, waitFor, type Api } from '../api/lib'

let api: Api

// The service ages sessions out after 4 s (its sweep runs every 2 s); the CLI commands below use their own value.
before(async () => {
  if (SKIP !== false) return
  api = await startApi('exec-expiry', { env: { CONEX_EXEC_CREATED_TIMEOUT_SECONDS: '4' } })
  const r = await api.store.conex(['run', '-d', '--name', 'e1', 'busybox', 'sleep', '100000'])
  assert.equal(r.code, 0, r.stderr)
})
after(async () => { await api?.stop() })

async function createExec (cmd: string[]): Promise<string> {
  const r = await api.call('POST', '/containers/e1/exec', { Cmd: cmd })
  assert.equal(r.status, 201, r.text)
  return r.json().Id as string
}

const status = async (id: string): Promise<number> => (await api.call('GET', `/exec/${id}/json`)).status

test('the service removes a session created and never started once it is older than the limit', { skip: SKIP, timeout: 60_000 }, async () => {
  const stale = await createExec(['true'])
  const running = await createExec(['sleep', '60'])
  const start = await api.call('POST', `/exec/${running}/start`, { Detach: true })
  assert.equal(start.status, 200, start.text)
  assert.equal(await status(stale), 200)
  const t0 = Date.now()
  await waitFor('the unstarted session to be removed', async () => (await status(stale)) === 404 ? true : undefined, 20_000)
  assert.ok(Date.now() - t0 >= 3_000, `removed after ${Date.now() - t0} ms, before the 4 s limit`)
  const gone = await api.call('GET', `/exec/${stale}/json`)
  // dockerd's words under the Docker API; the CLI keeps podman's.
  assert.deepEqual(gone.json(), { message: `No such exec instance: ${stale}` })
  const inspect = await api.store.conex(['exec', 'inspect', stale])
  assert.equal(inspect.code, 125)
  assert.equal(inspect.stderr, `Error: no exec session with ID ${stale} found: no such exec session\n`)
  // The started one is as old, but running: it stays (and still runs).
  const r = await api.call('GET', `/exec/${running}/json`)
  assert.equal(r.status, 200, r.text)
  assert.equal(r.json().Running, true)
  // A session created just now stays, and can still be started.
  const fresh = await createExec(['sh', '-c', 'exit 3'])
  assert.equal(await status(fresh), 200)
  const s = await api.call('POST', `/exec/${fresh}/start`, { Detach: true })
  assert.equal(s.status, 200, s.text)
  await waitFor('the fresh session to end', async () => (await api.call('GET', `/exec/${fresh}/json`)).json().ExitCode === 3 ? true : undefined)
})

test('a CLI command removes expired unstarted sessions too (no service sweep needed)', { skip: SKIP, timeout: 60_000 }, async () => {
  const old = await createExec(['true'])
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  const recent = await createExec(['true'])
  // The service's limit (4 s) is not reached yet; this CLI command's (1 s) is, for `old` only.
  const ps = await api.store.conex(['ps', '-q'], { env: { ...process.env, CONEX_EXEC_CREATED_TIMEOUT_SECONDS: '1' } })
  assert.equal(ps.code, 0, ps.stderr)
  assert.equal(await status(old), 404)
  assert.equal(await status(recent), 200)
  const inspect = await api.store.conex(['exec', 'inspect', '--format', '{{.Running}}', recent])
  assert.equal(inspect.code, 0, inspect.stderr)
  assert.equal(inspect.out, 'false\n')
})

test('a malformed limit is refused with one line and exit 125', { skip: SKIP }, async () => {
  const r = await api.store.conex(['ps', '-q'], { env: { ...process.env, CONEX_EXEC_CREATED_TIMEOUT_SECONDS: 'soon' } })
  assert.equal(r.code, 125)
  assert.equal(r.stderr, 'Error: CONEX_EXEC_CREATED_TIMEOUT_SECONDS must be a number of seconds >= 0, got "soon"\n')
})
