// A tiny router: static segments, `{param}` segments and one greedy `{param*}` (image names contain slashes), plus
// the version prefixes clients put in front of every path: `/v1.47/...` (Docker, checked against the supported
// range as dockerd does) and `/v4.3.1/libpod/...` (podman). Matching is a scan over a per-method list, which for
// ~80 routes costs less than the JSON parse of any body.
import { invalid, EngineError } from '../errors'

export const MIN_API_VERSION = '1.24'
export const MAX_API_VERSION = '1.47'
/** The libpod API version we answer as (podman 4.x clients check for a compatible major version). */
export const LIBPOD_API_VERSION = '4.9.3'

type Part = { kind: 'static', text: string } | { kind: 'param', name: string } | { kind: 'rest', name: string }

export interface Match<T> { route: T, params: Record<string, string> }

interface Entry<T> { parts: Part[], restAt: number, route: T }

// Compares dotted versions numerically: -1, 0 or 1.
export function compareVersions (a: string, b: string): number {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

export interface Versioned {
  path: string
  /** The Docker API version the client asked for (the maximum when the path had no prefix). */
  apiVersion: string
  /** Set for /libpod/ paths: the libpod version in the prefix, or ours when unversioned. */
  libpodVersion?: string
}

const VERSION_PREFIX = /^\/v(\d+(?:\.\d+){1,2})(\/.*)?$/

// Strips `/vX.Y` or `/vX.Y.Z/libpod`; rejects Docker versions outside [MIN, MAX] with dockerd's wording.
export function splitVersion (rawPath: string): Versioned {
  const m = VERSION_PREFIX.exec(rawPath)
  if (m === null) {
    if (rawPath.startsWith('/libpod/')) return { path: rawPath, apiVersion: MAX_API_VERSION, libpodVersion: LIBPOD_API_VERSION }
    return { path: rawPath, apiVersion: MAX_API_VERSION }
  }
  const version = m[1]
  const path = m[2] ?? '/'
  if (path.startsWith('/libpod/')) {
    const major = Number(version.split('.')[0])
    if (major < 3 || major > 5) throw invalid(`unsupported libpod API version ${version}: conex serves libpod API ${LIBPOD_API_VERSION} (clients 3.x to 5.x)`)
    return { path, apiVersion: MAX_API_VERSION, libpodVersion: version }
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw invalid(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`)
  }
  if (compareVersions(version, MAX_API_VERSION) > 0) {
    throw invalid(`client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`)
  }
  return { path, apiVersion: version }
}

function compile (path: string): { parts: Part[], restAt: number } {
  const parts: Part[] = path.split('/').slice(1).map((seg) => {
    const m = /^\{(\w+)(\*)?\}$/.exec(seg)
    if (m === null) return { kind: 'static', text: seg }
    return m[2] === '*' ? { kind: 'rest', name: m[1] } : { kind: 'param', name: m[1] }
  })
  return { parts, restAt: parts.findIndex((p) => p.kind === 'rest') }
}

function decode (seg: string): string {
  try {
    return decodeURIComponent(seg)
  } catch {
    throw invalid(`malformed percent-encoding in path segment "${seg}"`)
  }
}

// Matches `segs` against a compiled pattern; fills `params`.
function matchParts (e: { parts: Part[], restAt: number }, segs: string[], params: Record<string, string>): boolean {
  const { parts, restAt } = e
  if (restAt === -1) {
    if (segs.length !== parts.length) return false
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]
      if (p.kind === 'static') { if (p.text !== segs[i]) return false } else if (segs[i] === '') return false
    }
    for (let i = 0; i < parts.length; i++) { const p = parts[i]; if (p.kind === 'param') params[p.name] = decode(segs[i]) }
    return true
  }
  const tail = parts.length - restAt - 1
  if (segs.length < parts.length) return false
  for (let i = 0; i < restAt; i++) { const p = parts[i]; if (p.kind === 'static' && p.text !== segs[i]) return false }
  for (let i = 0; i < tail; i++) {
    const p = parts[parts.length - 1 - i]
    if (p.kind === 'static' && p.text !== segs[segs.length - 1 - i]) return false
  }
  const rest = segs.slice(restAt, segs.length - tail)
  if (rest.some((r) => r === '')) return false
  for (let i = 0; i < restAt; i++) { const p = parts[i]; if (p.kind === 'param') params[p.name] = decode(segs[i]) }
  for (let i = 0; i < tail; i++) {
    const p = parts[parts.length - 1 - i]
    if (p.kind === 'param') params[p.name] = decode(segs[segs.length - 1 - i])
  }
  params[(parts[restAt] as { name: string }).name] = rest.map(decode).join('/')
  return true
}

export class Router<T extends { method: string, path: string }> {
  readonly #byMethod = new Map<string, Array<Entry<T>>>()

  add (route: T): this {
    const list = this.#byMethod.get(route.method) ?? []
    list.push({ ...compile(route.path), route })
    this.#byMethod.set(route.method, list)
    return this
  }

  // Finds the route for a method and a version-less path; HEAD falls back to GET. Unknown → NO_SUCH_ROUTE (404).
  match (method: string, path: string): Match<T> {
    const segs = path.split('/').slice(1)
    if (segs.length > 1 && segs[segs.length - 1] === '') segs.pop()
    const lists = method === 'HEAD' ? [this.#byMethod.get('HEAD'), this.#byMethod.get('GET')] : [this.#byMethod.get(method)]
    for (const list of lists) {
      for (const e of list ?? []) {
        const params: Record<string, string> = {}
        if (matchParts(e, segs, params)) return { route: e.route, params }
      }
    }
    throw new EngineError('NO_SUCH_ROUTE', 'page not found')
  }
}
