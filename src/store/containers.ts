// Container rows: prepared statements kept as private fields, rows mapped to ContainerRecord in one place.
import { lazyStatements, type Db } from './db'
import type { ContainerRecord, ContainerState } from '../engine/types'
import { EngineError } from '../errors'
import { updater, type Updater } from './update-builder'

interface Row {
  id: string, name: string, image_id: string, image_name: string, config: string, state: ContainerState,
  pid: number, pid_start: string, conmon_pid: number, exit_code: number, oom_killed: number,
  created_at: number, started_at: number, finished_at: number, restarts: number
}

const fromRow = (r: Row): ContainerRecord => ({
  id: r.id,
  name: r.name,
  imageId: r.image_id,
  imageName: r.image_name,
  config: JSON.parse(r.config),
  state: r.state,
  pid: r.pid,
  pidStart: r.pid_start,
  conmonPid: r.conmon_pid,
  exitCode: r.exit_code,
  oomKilled: r.oom_killed === 1,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  restarts: r.restarts,
})

export type ContainerUpdate = Partial<Pick<ContainerRecord,
'state' | 'pid' | 'pidStart' | 'conmonPid' | 'exitCode' | 'oomKilled' | 'startedAt' | 'finishedAt' | 'restarts'>>

const COLUMNS: Record<keyof ContainerUpdate, string> = {
  state: 'state', pid: 'pid', pidStart: 'pid_start', conmonPid: 'conmon_pid', exitCode: 'exit_code',
  oomKilled: 'oom_killed', startedAt: 'started_at', finishedAt: 'finished_at', restarts: 'restarts',
}

export class ContainerStore {
  readonly #q
  readonly #update: Updater<ContainerUpdate>

  constructor (db: Db) {
    this.#q = lazyStatements(db, {
      insert: `INSERT INTO containers (id, name, image_id, image_name, config, state, created_at)
      VALUES (@id, @name, @imageId, @imageName, @config, @state, @createdAt)`,
      byId: 'SELECT * FROM containers WHERE id = ?',
      byName: 'SELECT * FROM containers WHERE name = ?',
      byPrefix: "SELECT * FROM containers WHERE id LIKE ? || '%' ESCAPE '\\' LIMIT 2",
      all: 'SELECT * FROM containers ORDER BY created_at DESC, rowid DESC',
      delete: 'DELETE FROM containers WHERE id = ?',
      latest: 'SELECT * FROM containers ORDER BY created_at DESC, rowid DESC LIMIT 1',
    })
    this.#update = updater(db, 'containers', COLUMNS)
  }

  // Adds a container; a taken name is NAME_IN_USE.
  add (c: ContainerRecord): void {
    try {
      this.#q.insert.run({ ...c, config: JSON.stringify(c.config) })
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new EngineError('NAME_IN_USE', `the container name "${c.name}" is already in use by another container`)
      }
      throw err
    }
  }

  get (id: string): ContainerRecord | undefined {
    const r = this.#q.byId.get(id) as Row | undefined
    return r === undefined ? undefined : fromRow(r)
  }

  // Resolves a full id, a name or a unique id prefix, as podman does (name wins over prefix).
  lookup (ref: string): ContainerRecord | undefined {
    const exact = (this.#q.byId.get(ref) ?? this.#q.byName.get(ref)) as Row | undefined
    if (exact !== undefined) return fromRow(exact)
    if (!/^[0-9a-f]{1,63}$/.test(ref)) return undefined
    const rows = this.#q.byPrefix.all(ref) as Row[]
    if (rows.length > 1) throw new EngineError('AMBIGUOUS_ID', `more than one container matches the id prefix "${ref}"`)
    return rows.length === 1 ? fromRow(rows[0]) : undefined
  }

  latest (): ContainerRecord | undefined {
    const r = this.#q.latest.get() as Row | undefined
    return r === undefined ? undefined : fromRow(r)
  }

  list (): ContainerRecord[] { return (this.#q.all.all() as Row[]).map(fromRow) }

  update (id: string, u: ContainerUpdate): void { this.#update(id, u) }

  remove (id: string): void { this.#q.delete.run(id) }
}
