// The Go value model of JSON-shaped data: maps, nil, truth, type names and fmt's %v printing.

import { floatG } from './float'

// A plain object or class instance, treated as a Go map.
export type Obj = Record<string, unknown>

// Plain objects (and class instances) are Go maps; arrays and Dates are not.
export const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
// A map's keys in Go order (sorted), skipping undefined values.
export const mapKeys = (o: Obj): string[] => Object.keys(o).filter((k) => o[k] !== undefined).sort()
// Integers: bigints and integral numbers.
export const isInt = (v: unknown): v is number | bigint => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))
// nil: null or undefined (missing).
export const isNil = (v: unknown): boolean => v === undefined || v === null

// Go's truth: false for nil, missing, zero numbers, false, and empty strings, slices and maps.
export function isTrue (v: unknown): boolean {
  if (v === undefined || v === null) return false
  switch (typeof v) {
    case 'string': return v.length > 0
    case 'number': return v !== 0
    case 'bigint': return v !== 0n
    case 'boolean': return v
    case 'object': return Array.isArray(v) ? v.length > 0 : v instanceof Date || mapKeys(v as Obj).length > 0
    default: return true
  }
}

// Go's name for the type a value stands for (in messages and %T).
export function goType (v: unknown): string {
  if (v === undefined || v === null) return '<nil>'
  switch (typeof v) {
    case 'string': return 'string'
    case 'boolean': return 'bool'
    case 'number': return Number.isInteger(v) ? 'int' : 'float64'
    case 'bigint': return 'int'
    case 'function': return 'func'
  }
  if (Array.isArray(v)) return '[]interface {}'
  return v instanceof Date ? 'time.Time' : 'map[string]interface {}'
}

// time.Time.String() in UTC: `2024-01-02 03:04:05.5 +0000 UTC`.
export function goTime (d: Date, rfc3339 = false): string {
  if (Number.isNaN(d.getTime())) return 'Invalid Date'
  const iso = d.toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = iso.slice(20, 23).replace(/0+$/, '')
  const base = iso.slice(0, 19) + (frac === '' ? '' : '.' + frac)
  return rfc3339 ? base + 'Z' : base.replace('T', ' ') + ' +0000 UTC'
}

// fmt's %v: strings raw, integers as digits, floats like Go (%g, shortest), [a b], map[k:v] with sorted keys.
export function formatV (v: unknown): string {
  if (v === undefined || v === null) return '<nil>'
  switch (typeof v) {
    case 'string': return v
    case 'number': return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : floatG(v, -1)
    case 'bigint': return v.toString()
    case 'boolean': return String(v)
    case 'function': return 'func'
    case 'object': break
    default: return String(v)
  }
  if (Array.isArray(v)) return '[' + v.map(formatV).join(' ') + ']'
  if (v instanceof Date) return goTime(v)
  const o = v as Obj
  return 'map[' + mapKeys(o).map((k) => `${k}:${formatV(o[k])}`).join(' ') + ']'
}

// fmt.Sprint: operands are separated by a space when neither side is a string.
export function sprint (args: unknown[]): string {
  let out = ''
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' '
    out += formatV(a)
  })
  return out
}
