// The event log: container, exec and image events for `conex events` and the Docker /events stream.
import { lazyStatements, type Db } from './db'

export interface EventRecord {
  seq: number
  timeNs: bigint
  type: string
  action: string
  actorId: string
  attributes: Record<string, string>
}

interface Row { seq: number, time_ns: bigint, type: string, action: string, actor_id: string, attributes: string }

const MAX_EVENTS = 10_000

export class EventStore {
  readonly #q

  constructor (db: Db) {
    this.#q = lazyStatements(db, {
      lastDied: "SELECT attributes FROM events WHERE type = 'container' AND action = 'died' AND time_ns >= ? AND (actor_id = ? OR json_extract(attributes, '$.name') = ?) ORDER BY seq DESC LIMIT 1",
      insert: 'INSERT INTO events (time_ns, type, action, actor_id, attributes) VALUES (?, ?, ?, ?, ?)',
      since: 'SELECT * FROM events WHERE seq > ? AND time_ns >= ? ORDER BY seq',
      trim: 'DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?',
    }, { lastDied: (st) => st.safeIntegers(true), since: (st) => st.safeIntegers(true) })
  }

  add (type: string, action: string, actorId: string, attributes: Record<string, string>): void {
    const now = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n
    const r = this.#q.insert.run(now, type, action, actorId, JSON.stringify(attributes))
    if (Number(r.lastInsertRowid) % 500 === 0) this.#q.trim.run(MAX_EVENTS)
  }

  // The exit code of the last `died` event of container `ref` (full id or name) not older than `sinceMs` (a record's
  // time, in milliseconds since the epoch, as containers keep their startedAt).
  lastExitCode (ref: string, sinceMs: number): number | undefined {
    const row = this.#q.lastDied.get(BigInt(sinceMs) * 1_000_000n, ref, ref) as { attributes: string } | undefined
    if (row === undefined) return undefined
    const code = Number((JSON.parse(row.attributes) as Record<string, string>).exitCode)
    return Number.isInteger(code) ? code : undefined
  }

  // Events after sequence number `afterSeq` and not older than `sinceNs`.
  list (afterSeq = 0, sinceNs = 0n): EventRecord[] {
    return (this.#q.since.all(BigInt(afterSeq), sinceNs) as Row[]).map((r) => ({
      seq: Number(r.seq), timeNs: BigInt(r.time_ns), type: r.type, action: r.action, actorId: r.actor_id,
      attributes: JSON.parse(r.attributes),
    }))
  }
}
