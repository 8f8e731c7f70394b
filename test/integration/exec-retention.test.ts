// Ended exec sessions stay inspectable for exec_retention_grace_seconds whatever the count bound says (128 clients
// of one container inspect after their ends, some seconds late under load), then the count bound applies: the
// service's sweep (and any CLI command) keeps the newest exec_retention_count per container.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SKIP } from './exec-common'
import { startApi, waitFor, type Api } from '../api/lib'

let api: Api
const dir = mkdtempSync(join(tmpdir(), 'conex-retention-'))

before(async () => {
  if (SKIP !== false) return
  writeFileSync(join(dir, 'conex.json'), JSON.stringify({ exec_retention_count: 3 }))
  api = await startApi('exec-retention', { env: { CONEX_CONFIG: join(dir, 'conex.json'), CONEX_EXEC_RETENTION_GRACE_SECONDS: '3' } })
  const r = await api.store.conex(['run', '-d', '--name', 'r1', 'busybox', 'sleep', '100000'])
  assert.equal(r.code, 0, r.stderr)
})
after(async () => { await api?.stop(); rmSync(dir, { recursive: true, force: true }) })

async function runExec (n: number): Promise<string> {
  const c = await api.call('POST', '/containers/r1/exec', { Cmd: ['sh', '-c', `exit ${n}`] })
  assert.equal(c.status, 201, c.text)
  const id = c.json().Id as string
  const s = await api.call('POST', `/exec/${id}/start`, { Detach: true })
  assert.equal(s.status, 200, s.text)
  await waitFor(`exec ${n} to end`, async () => (await api.call('GET', `/exec/${id}/json`)).json().Running === false ? true : undefined)
  return id
}

test('8 ended sessions on one container are all inspectable at first; after the grace the newest 3 remain', { skip: SKIP, timeout: 90_000 }, async () => {
  const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => runExec(i + 1)))
  for (const [i, id] of ids.entries()) {
    const r = await api.call('GET', `/exec/${id}/json`)
    assert.equal(r.status, 200, `session ${i + 1} pruned within the grace`)
    assert.equal(r.json().ExitCode, i + 1)
  }
  const alive = async (): Promise<string[]> => {
    const out: string[] = []
    for (const id of ids) if ((await api.call('GET', `/exec/${id}/json`)).status === 200) out.push(id)
    return out
  }
  const left = await waitFor('the count bound to apply', async () => { const a = await alive(); return a.length === 3 ? a : undefined }, 30_000)
  for (const id of left) assert.equal(typeof (await api.call('GET', `/exec/${id}/json`)).json().ExitCode, 'number')
})
