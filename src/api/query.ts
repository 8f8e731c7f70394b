// Query-string validation: each route declares its parameters; a bad value is a 400 naming the parameter and the
// value. Unknown parameters are ignored, as dockerd and podman do. `filters` is Docker's JSON filter argument,
// either {"key": ["v"]} or the older {"key": {"v": true}}, checked against the keys the route supports.
import { invalid } from '../errors'

export interface BoolQ { kind: 'bool' }
export interface IntQ { kind: 'int', min?: number, max?: number, required?: boolean }
export interface StrQ { kind: 'str', enum?: readonly string[], pattern?: RegExp, maxLength?: number, required?: boolean }
export interface FiltersQ { kind: 'filters', keys: readonly string[] }
export type QSpec = BoolQ | IntQ | StrQ | FiltersQ

export type Filters = Map<string, string[]>

type One<S> = S extends BoolQ ? boolean : S extends IntQ ? number : S extends FiltersQ ? Filters : string
export type InferQuery<Q> = { [K in keyof Q]?: One<Q[K]> }

// Builders: `{ h: q.int({ min: 0, max: 1000, required: true }) }`.
export const q = {
  bool: (): BoolQ => ({ kind: 'bool' }),
  int: (o: Omit<IntQ, 'kind'> = {}): IntQ => ({ kind: 'int', ...o }),
  str: (o: Omit<StrQ, 'kind'> = {}): StrQ => ({ kind: 'str', ...o }),
  filters: (...keys: string[]): FiltersQ => ({ kind: 'filters', keys }),
}

const TRUE = new Set(['1', 'true', 'yes', 'on', 't'])
const FALSE = new Set(['', '0', 'false', 'no', 'off', 'none', 'f'])

// Parses a boolean parameter: 1/true/yes/on or ''/0/false/no/off/none (any case); anything else is a 400.
export function parseBool (name: string, v: string): boolean {
  const t = v.trim().toLowerCase()
  if (TRUE.has(t)) return true
  if (FALSE.has(t)) return false
  throw invalid(`invalid value for query parameter "${name}": "${v}" is not a boolean`)
}

// Parses an integer parameter within [min, max]; fractions, signs where not allowed and overflow are 400s.
export function parseInt10 (name: string, v: string, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const t = v.trim()
  if (!/^[-+]?\d{1,16}$/.test(t)) throw invalid(`invalid value for query parameter "${name}": "${v}" is not an integer`)
  const n = Number(t)
  if (n < min || n > max) throw invalid(`invalid value for query parameter "${name}": ${n} is out of range [${min}, ${max}]`)
  return n
}

// Parses Docker's `filters` JSON into key → values.
export function parseFilters (v: string, keys: readonly string[]): Filters {
  const out: Filters = new Map()
  if (v.trim() === '') return out
  let raw: unknown
  try { raw = JSON.parse(v) } catch (err) { throw invalid(`invalid filter: ${(err as Error).message}`) }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('invalid filter: expected a JSON object of key → values')
  for (const [k, x] of Object.entries(raw as Record<string, unknown>)) {
    if (!keys.includes(k)) throw invalid(`invalid filter '${k}'`)
    let values: string[]
    if (Array.isArray(x) && x.every((e) => typeof e === 'string')) values = x as string[]
    else if (typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every((e) => typeof e === 'boolean')) {
      values = Object.entries(x as Record<string, boolean>).filter(([, on]) => on).map(([val]) => val)
    } else throw invalid(`invalid filter '${k}': values must be a list of strings`)
    if (values.length > 0) out.set(k, values)
  }
  return out
}

// Validates the query string against `spec`.
export function parseQuery<Q extends Record<string, QSpec>> (spec: Q, sp: URLSearchParams): InferQuery<Q> {
  const out: Record<string, unknown> = {}
  for (const [name, d] of Object.entries(spec)) {
    const v = sp.get(name)
    if (v === null) {
      if ((d.kind === 'int' || d.kind === 'str') && d.required === true) throw invalid(`missing query parameter "${name}"`)
      continue
    }
    switch (d.kind) {
      case 'bool': out[name] = parseBool(name, v); break
      case 'int':
        if (v === '' && d.required !== true) break
        out[name] = parseInt10(name, v, d.min, d.max)
        break
      case 'filters': out[name] = parseFilters(v, d.keys); break
      case 'str':
        if (d.maxLength !== undefined && v.length > d.maxLength) throw invalid(`invalid value for query parameter "${name}": longer than ${d.maxLength} characters`)
        if (d.enum !== undefined && !d.enum.includes(v)) throw invalid(`invalid value for query parameter "${name}": "${v}" (expected one of ${d.enum.map((e) => `"${e}"`).join(', ')})`)
        if (d.pattern !== undefined && !d.pattern.test(v)) throw invalid(`invalid value for query parameter "${name}": "${v}"`)
        out[name] = v
    }
  }
  return out as InferQuery<Q>
}
