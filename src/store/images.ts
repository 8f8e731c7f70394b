// Image rows and their names (repo:tag). Layers are ids of directories under <root>/layers/.
import { lazyStatements, type Db } from './db'
import { EngineError } from '../errors'

export interface ImageConfig {
  Env?: string[]
  Cmd?: string[]
  Entrypoint?: string[]
  WorkingDir?: string
  User?: string
  Labels?: Record<string, string>
  StopSignal?: string
}

export interface ImageRecord {
  id: string
  names: string[]
  config: ImageConfig
  layers: string[]
  size: number
  createdAt: number
}

interface Row { id: string, config: string, layers: string, size: number, created_at: number }

export class ImageStore {
  readonly #db: Db
  readonly #q

  constructor (db: Db) {
    this.#db = db
    this.#q = lazyStatements(db, {
      insert: 'INSERT OR IGNORE INTO images (id, config, layers, size, created_at) VALUES (?, ?, ?, ?, ?)',
      byId: 'SELECT * FROM images WHERE id = ?',
      byPrefix: "SELECT * FROM images WHERE id LIKE ? || '%' LIMIT 2",
      byName: 'SELECT images.* FROM images JOIN image_names ON image_names.image_id = images.id WHERE image_names.name = ?',
      names: 'SELECT name FROM image_names WHERE image_id = ? ORDER BY name',
      all: 'SELECT * FROM images ORDER BY created_at DESC',
      addName: 'INSERT INTO image_names (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id',
      removeName: 'DELETE FROM image_names WHERE name = ?',
      delete: 'DELETE FROM images WHERE id = ?',
    })
  }

  #fromRow (r: Row): ImageRecord {
    return {
      id: r.id,
      names: (this.#q.names.all(r.id) as Array<{ name: string }>).map((n) => n.name),
      config: JSON.parse(r.config),
      layers: JSON.parse(r.layers),
      size: r.size,
      createdAt: r.created_at,
    }
  }

  add (img: Omit<ImageRecord, 'names'>, names: string[]): void {
    this.#q.insert.run(img.id, JSON.stringify(img.config), JSON.stringify(img.layers), img.size, img.createdAt)
    for (const n of names) this.#q.addName.run(n, img.id)
  }

  // Resolves a name (normalised), a full id, `sha256:` id or a unique id prefix.
  lookup (ref: string): ImageRecord | undefined {
    const byName = this.#q.byName.get(normalizeImageName(ref)) as Row | undefined
    if (byName !== undefined) return this.#fromRow(byName)
    const id = ref.startsWith('sha256:') ? ref.slice(7) : ref
    const exact = this.#q.byId.get(id) as Row | undefined
    if (exact !== undefined) return this.#fromRow(exact)
    if (!/^[0-9a-f]{3,63}$/.test(id)) return undefined
    const rows = this.#q.byPrefix.all(id) as Row[]
    if (rows.length > 1) throw new EngineError('AMBIGUOUS_ID', `more than one image matches the id prefix "${ref}"`)
    return rows.length === 1 ? this.#fromRow(rows[0]) : undefined
  }

  list (): ImageRecord[] { return (this.#q.all.all() as Row[]).map((r) => this.#fromRow(r)) }
  tag (imageId: string, name: string): void { this.#q.addName.run(normalizeImageName(name), imageId) }
  untag (name: string): boolean { return this.#q.removeName.run(normalizeImageName(name)).changes > 0 }
  remove (id: string): void { this.#q.delete.run(id) }
}

// `busybox` → `localhost/busybox:latest`; `docker.io/library/x` stays; a missing tag becomes `latest`.
export function normalizeImageName (name: string): string {
  let n = name
  const slash = n.lastIndexOf('/')
  const colon = n.lastIndexOf(':')
  if (!n.includes('@') && (colon === -1 || colon < slash)) n += ':latest'
  const first = n.split('/')[0]
  const hasRegistry = n.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  if (!hasRegistry) n = 'localhost/' + n
  return n
}
