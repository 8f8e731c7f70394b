// A small validator for JSON bodies, shaped after moby's api/swagger.yaml and Go's encoding/json: object keys match
// field names case-insensitively (an exact match wins), unknown keys are ignored, `null` leaves a field unset, and a
// wrong type is a 400 worded like Go's "cannot unmarshal string into Go struct field ExecConfig.Tty of type bool".
// The output is the input re-keyed to the schema's canonical field names, typed by `Infer<S>`.
import { invalid } from '../errors'

export interface StrSchema { kind: 'string', enum?: readonly string[], pattern?: RegExp, maxLength?: number }
export interface IntSchema { kind: 'integer', min?: number, max?: number, goType?: string }
export interface NumSchema { kind: 'number' }
export interface BoolSchema { kind: 'boolean' }
export interface AnySchema { kind: 'any' }
/** Docker's strslice.StrSlice: a string or an array of strings, always given back as an array. */
export interface StrSliceSchema { kind: 'strslice' }
export interface ArrSchema<I extends Schema = Schema> { kind: 'array', items: I, maxItems?: number }
export interface MapSchema<V extends Schema = Schema> { kind: 'map', values: V, maxKeys?: number }
export interface ObjSchema<P extends Record<string, Schema> = Record<string, Schema>> { kind: 'object', name: string, props: P, required?: ReadonlyArray<keyof P & string> }
export interface TupleSchema<I extends Schema = Schema> { kind: 'tuple', items: I, length: number }

export type Schema = StrSchema | IntSchema | NumSchema | BoolSchema | AnySchema | StrSliceSchema | ArrSchema | MapSchema |
ObjSchema | TupleSchema

export type Infer<S> =
  S extends StrSchema ? string :
    S extends IntSchema ? number :
      S extends NumSchema ? number :
        S extends BoolSchema ? boolean :
          S extends StrSliceSchema ? string[] :
            S extends ArrSchema<infer I> ? Array<Infer<I>> :
              S extends TupleSchema<infer I> ? Array<Infer<I>> :
                S extends MapSchema<infer V> ? Record<string, Infer<V>> :
                  S extends ObjSchema<infer P> ? { [K in keyof P]?: Infer<P[K]> } :
                    unknown

// Builders: `s.obj('ExecConfig', { Cmd: s.strslice(), Tty: s.bool() })`.
export const s = {
  str: (o: Omit<StrSchema, 'kind'> = {}): StrSchema => ({ kind: 'string', ...o }),
  int: (o: Omit<IntSchema, 'kind'> = {}): IntSchema => ({ kind: 'integer', ...o }),
  num: (): NumSchema => ({ kind: 'number' }),
  bool: (): BoolSchema => ({ kind: 'boolean' }),
  any: (): AnySchema => ({ kind: 'any' }),
  strslice: (): StrSliceSchema => ({ kind: 'strslice' }),
  arr: <I extends Schema>(items: I, maxItems = 65536): ArrSchema<I> => ({ kind: 'array', items, maxItems }),
  tuple: <I extends Schema>(items: I, length: number): TupleSchema<I> => ({ kind: 'tuple', items, length }),
  map: <V extends Schema>(values: V, maxKeys = 65536): MapSchema<V> => ({ kind: 'map', values, maxKeys }),
  obj: <P extends Record<string, Schema>>(name: string, props: P, required?: ReadonlyArray<keyof P & string>): ObjSchema<P> => ({ kind: 'object', name, props, required }),
}

const INT32 = { min: -2147483648, max: 2147483647 }

// Go's name for a JSON value's type in unmarshal errors.
function jsonType (v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return 'number'
  if (typeof v === 'object') return 'object'
  return typeof v
}

function goType (sch: Schema): string {
  switch (sch.kind) {
    case 'string': return 'string'
    case 'integer': return sch.goType ?? 'int'
    case 'number': return 'float64'
    case 'boolean': return 'bool'
    case 'strslice': return 'strslice.StrSlice'
    case 'array': return `[]${goType(sch.items)}`
    case 'tuple': return `[${sch.length}]${goType(sch.items)}`
    case 'map': return `map[string]${goType(sch.values)}`
    case 'object': return sch.name
    default: return 'interface {}'
  }
}

interface Where { struct: string, field: string }

function mismatch (v: unknown, sch: Schema, at: Where | undefined): never {
  const into = at === undefined ? `Go value of type ${goType(sch)}` : `Go struct field ${at.struct}.${at.field} of type ${goType(sch)}`
  throw invalid(`json: cannot unmarshal ${jsonType(v)} into ${into}`)
}

// Checks `v` against `sch` and returns it with canonical keys; throws INVALID_ARGUMENT (400).
export function validate<S extends Schema> (sch: S, v: unknown, at?: Where): Infer<S> {
  return check(sch, v, at) as Infer<S>
}

// The untyped form, for the server's dispatch (which does not know the route's body type).
export function validateValue (sch: Schema, v: unknown): unknown { return check(sch, v, undefined) }

function check (sch: Schema, v: unknown, at: Where | undefined): unknown {
  switch (sch.kind) {
    case 'any': return v
    case 'string': {
      if (typeof v !== 'string') return mismatch(v, sch, at)
      const name = at?.field ?? 'value'
      if (sch.maxLength !== undefined && v.length > sch.maxLength) throw invalid(`${name} is too long (${v.length} > ${sch.maxLength} characters)`)
      if (sch.enum !== undefined && !sch.enum.includes(v)) throw invalid(`invalid ${name} "${v}": must be one of ${sch.enum.map((x) => `"${x}"`).join(', ')}`)
      if (sch.pattern !== undefined && !sch.pattern.test(v)) throw invalid(`invalid ${name} "${v}"`)
      return v
    }
    case 'integer': {
      if (typeof v !== 'number') return mismatch(v, sch, at)
      const min = sch.min ?? INT32.min
      const max = sch.max ?? Number.MAX_SAFE_INTEGER
      if (!Number.isInteger(v)) throw invalid(`json: cannot unmarshal number ${v} into ${at === undefined ? 'Go value' : `Go struct field ${at.struct}.${at.field}`} of type ${goType(sch)}`)
      if (v < min || v > max) throw invalid(`${at?.field ?? 'value'} ${v} is out of range [${min}, ${max}]`)
      return v
    }
    case 'number': return typeof v === 'number' ? v : mismatch(v, sch, at)
    case 'boolean': return typeof v === 'boolean' ? v : mismatch(v, sch, at)
    case 'strslice': {
      if (typeof v === 'string') return [v]
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return mismatch(v, sch, at)
      return v
    }
    case 'array':
    case 'tuple': {
      if (!Array.isArray(v)) return mismatch(v, sch, at)
      if (sch.kind === 'tuple' && v.length !== sch.length) throw invalid(`${at?.field ?? 'value'} must have exactly ${sch.length} elements`)
      if (sch.kind === 'array' && v.length > (sch.maxItems ?? Infinity)) throw invalid(`${at?.field ?? 'value'} has too many elements (${v.length})`)
      return v.map((x) => check(sch.items, x, at))
    }
    case 'map': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return mismatch(v, sch, at)
      const entries = Object.entries(v)
      if (entries.length > (sch.maxKeys ?? Infinity)) throw invalid(`${at?.field ?? 'value'} has too many keys (${entries.length})`)
      const out: Record<string, unknown> = {}
      for (const [k, x] of entries) if (x !== null) out[k] = check(sch.values, x, at)
      return out
    }
    case 'object': return checkObject(sch, v, at)
  }
}

// Matches keys as Go does: an exact field name first, then a case-insensitive one; the first match wins.
function checkObject (sch: ObjSchema, v: unknown, at: Where | undefined): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return mismatch(v, sch, at)
  const fields = lowerIndex(sch)
  const out: Record<string, unknown> = {}
  const exact = new Set<string>()
  for (const [k, x] of Object.entries(v)) {
    const field = k in sch.props ? k : fields.get(k.toLowerCase())
    if (field === undefined || x === null || x === undefined) continue
    if (field in out && (exact.has(field) || k !== field)) continue
    if (k === field) exact.add(field)
    out[field] = check(sch.props[field], x, { struct: sch.name, field })
  }
  for (const r of sch.required ?? []) {
    if (out[r] === undefined) throw invalid(`${sch.name}.${r} is required`)
  }
  return out
}

const indexCache = new WeakMap<ObjSchema, Map<string, string>>()
function lowerIndex (sch: ObjSchema): Map<string, string> {
  let m = indexCache.get(sch)
  if (m === undefined) {
    m = new Map(Object.keys(sch.props).map((k) => [k.toLowerCase(), k]))
    indexCache.set(sch, m)
  }
  return m
}

// Parses a JSON body as dockerd does ("invalid JSON: ..."); an empty body is `undefined`.
export function parseJson (body: Buffer): unknown {
  if (body.length === 0) return undefined
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (err) {
    throw invalid(`invalid JSON: ${(err as Error).message}`)
  }
}
