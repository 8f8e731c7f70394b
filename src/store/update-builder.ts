// UPDATE statements from a partial record: a map of the record's keys to their columns gives
// `UPDATE <table> SET col = @key, ... WHERE id = @id` for the keys an update names (booleans stored as 1/0).
import type { Db } from './db'
import type { Statement } from 'better-sqlite3'

/** An update of one row by id; an update that names no key does nothing. */
export type Updater<U> = (id: string, u: U) => void

// Each set of keys is prepared once (the same few updates recur: an exec's claim, pid and exit).
export function updater<U extends object> (db: Db, table: string, columns: Record<keyof U & string, string>): Updater<U> {
  const prepared = new Map<string, Statement>()
  return (id, u) => {
    const keys = Object.keys(u) as Array<keyof U & string>
    if (keys.length === 0) return
    const sets = keys.map((k) => `${columns[k]} = @${k}`).join(', ')
    const params: Record<string, unknown> = { id }
    for (const k of keys) { const v: unknown = u[k]; params[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v }
    let st = prepared.get(sets)
    if (st === undefined) prepared.set(sets, st = db.prepare(`UPDATE ${table} SET ${sets} WHERE id = @id`))
    st.run(params)
  }
}
