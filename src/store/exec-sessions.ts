// Exec session rows. The schema's CHECKs keep states and exit codes valid whatever writes them.
import { lazyStatements, type Db } from './db'
import type { ExecSessionRecord, ExecState } from '../engine/types'
import { updater, type Updater } from './update-builder'

interface Row {
  id: string, container_id: string, config: string, state: ExecState, pid: number, pid_start: string,
  conmon_pid: number, exit_code: number | null, created_at: number, started_at: number, ended_at: number
}

const fromRow = (r: Row): ExecSessionRecord => ({
  id: r.id,
  containerId: r.container_id,
  config: JSON.parse(r.config),
  state: r.state,
  pid: r.pid,
  pidStart: r.pid_start,
  conmonPid: r.conmon_pid,
  exitCode: r.exit_code,
  createdAt: r.created_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
})

export type ExecUpdate = Partial<Pick<ExecSessionRecord, 'state' | 'pid' | 'pidStart' | 'conmonPid' | 'exitCode' | 'startedAt' | 'endedAt'>>

const COLUMNS: Record<keyof ExecUpdate, string> = {
  state: 'state', pid: 'pid', pidStart: 'pid_start', conmonPid: 'conmon_pid', exitCode: 'exit_code',
  startedAt: 'started_at', endedAt: 'ended_at',
}

export class ExecSessionStore {
  readonly #q
  readonly #update: Updater<ExecUpdate>

  constructor (db: Db) {
    this.#q = lazyStatements(db, {
      insert: `INSERT INTO exec_sessions (id, container_id, config, state, created_at)
        VALUES (@id, @containerId, @config, @state, @createdAt)`,
      byId: 'SELECT * FROM exec_sessions WHERE id = ?',
      byPrefix: "SELECT * FROM exec_sessions WHERE id LIKE ? || '%' LIMIT 2",
      byContainer: 'SELECT * FROM exec_sessions WHERE container_id = ? ORDER BY created_at, rowid',
      // Reads on every container sync and inspect: only the rows that need attention, so their cost does not grow
      // with the ended sessions kept for inspection (up to the retention bound per container).
      activeForContainer: "SELECT * FROM exec_sessions WHERE container_id = ? AND state IN ('created', 'running') ORDER BY created_at, rowid",
      runningForContainer: "SELECT * FROM exec_sessions WHERE container_id = ? AND state = 'running' ORDER BY created_at, rowid",
      running: "SELECT * FROM exec_sessions WHERE state = 'running' ORDER BY created_at",
      delete: 'DELETE FROM exec_sessions WHERE id = ?',
      // Ended sessions go when older than `before`, or beyond the `count` newest of their container once they ended
      // before `graceBefore` (a client inspects right after the end; under load that can take seconds, and 128
      // concurrent execs on one container would otherwise lose their records before their clients asked).
      prune: `DELETE FROM exec_sessions WHERE container_id = @containerId AND state = 'stopped' AND
        (ended_at < @before OR (ended_at < @graceBefore AND (ended_at, rowid) <= (SELECT ended_at, rowid FROM exec_sessions
          WHERE container_id = @containerId AND state = 'stopped' ORDER BY ended_at DESC, rowid DESC LIMIT 1 OFFSET @count)))`,
      // Exactly the containers prune would delete from: one ended too long ago, or more than `count` whose oldest
      // (the first beyond the newest `count`) is past the grace. So a burst within the grace costs no write.
      overBound: `SELECT container_id AS c FROM exec_sessions WHERE state = 'stopped'
        GROUP BY container_id HAVING MIN(ended_at) < @before OR (COUNT(*) > @count AND MIN(ended_at) < @graceBefore)`,
      anyCreatedBefore: "SELECT 1 FROM exec_sessions WHERE state = 'created' AND created_at < ? LIMIT 1",
      pruneCreated: "DELETE FROM exec_sessions WHERE state = 'created' AND created_at < ?",
    })
    this.#update = updater(db, 'exec_sessions', COLUMNS)
  }

  add (s: ExecSessionRecord): void { this.#q.insert.run({ ...s, config: JSON.stringify(s.config) }) }

  get (id: string): ExecSessionRecord | undefined {
    const r = this.#q.byId.get(id) as Row | undefined
    return r === undefined ? undefined : fromRow(r)
  }

  // Full id or a unique prefix of at least 4 hex digits.
  lookup (ref: string): ExecSessionRecord | undefined {
    const exact = this.get(ref)
    if (exact !== undefined || !/^[0-9a-f]{4,63}$/.test(ref)) return exact
    const rows = this.#q.byPrefix.all(ref) as Row[]
    return rows.length === 1 ? fromRow(rows[0]) : undefined
  }

  forContainer (containerId: string): ExecSessionRecord[] { return (this.#q.byContainer.all(containerId) as Row[]).map(fromRow) }
  /** The container's sessions that have not ended (created or running). */
  activeForContainer (containerId: string): ExecSessionRecord[] { return (this.#q.activeForContainer.all(containerId) as Row[]).map(fromRow) }
  runningForContainer (containerId: string): ExecSessionRecord[] { return (this.#q.runningForContainer.all(containerId) as Row[]).map(fromRow) }
  running (): ExecSessionRecord[] { return (this.#q.running.all() as Row[]).map(fromRow) }

  update (id: string, u: ExecUpdate): void { this.#update(id, u) }

  remove (id: string): void { this.#q.delete.run(id) }

  // Removes ended sessions past the retention bound; returns how many went.
  prune (containerId: string, o: { before: number, graceBefore: number, count: number }): number {
    return this.#q.prune.run({ containerId, ...o }).changes
  }

  /** Containers whose ended sessions may be over the bounds (a read, no lock). */
  containersOverBound (o: { before: number, graceBefore: number, count: number }): string[] {
    return (this.#q.overBound.all(o) as Array<{ c: string }>).map((r) => r.c)
  }

  // Sessions never started (any container) created before `before`: whether there are any (a read, no lock), and
  // their removal (call inside a write transaction); it returns how many went.
  anyCreatedBefore (before: number): boolean { return this.#q.anyCreatedBefore.get(before) !== undefined }
  pruneCreated (before: number): number { return this.#q.pruneCreated.run(before).changes }
}
