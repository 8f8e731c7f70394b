// The template functions: text/template's own (and, eq, index, printf...) and podman's (json, upper, join...).

import { FuncError } from './errors'
import { marshalJson } from './go-json'
import { sprintf } from './printf'
import { isPrint } from './strconv'
import { formatV, goType, isInt, isMap, isNil, isTrue, mapKeys, sprint } from './values'
import type { Obj } from './values'

// 'value' passes anything through (Go's reflect.Value), 'any' turns missing into nil (interface{}).
export type ParamType = 'value' | 'any' | 'string' | 'int' | 'strings'

// A function's parameter types (checked by the evaluator), and its body.
export interface Builtin {
  params: ParamType[]
  variadic?: ParamType
  lazy?: true
  call: (args: unknown[]) => unknown
}

const str = (a: unknown[], i: number): string => a[i] as string
const num = (a: unknown[], i: number): number => a[i] as number

// The function table, by template name.
export const BUILTINS: Record<string, Builtin> = {
  // text/template's own
  and: { params: ['value'], variadic: 'value', lazy: true, call: () => undefined },
  or: { params: ['value'], variadic: 'value', lazy: true, call: () => undefined },
  not: { params: ['value'], call: (a) => !isTrue(a[0]) },
  len: { params: ['value'], call: (a) => length(a[0]) },
  index: { params: ['value'], variadic: 'value', call: (a) => index(a[0], a.slice(1)) },
  slice: { params: ['value'], variadic: 'value', call: (a) => slice(a[0], a.slice(1)) },
  call: { params: ['value'], variadic: 'any', call: (a) => callFunction(a[0], a.slice(1)) },
  print: { params: [], variadic: 'any', call: (a) => sprint(a) },
  printf: { params: ['string'], variadic: 'any', call: (a) => sprintf(str(a, 0), a.slice(1)) },
  println: { params: [], variadic: 'any', call: (a) => a.map(formatV).join(' ') + '\n' },
  html: { params: [], variadic: 'any', call: (a) => htmlEscape(evalArgs(a)) },
  js: { params: [], variadic: 'any', call: (a) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: 'any', call: (a) => queryEscape(evalArgs(a)) },
  eq: { params: ['value'], variadic: 'value', call: (a) => eq(a[0], a.slice(1)) },
  ne: { params: ['value', 'value'], call: (a) => !eq(a[0], [a[1]]) },
  lt: { params: ['value', 'value'], call: (a) => lt(a[0], a[1]) },
  le: { params: ['value', 'value'], call: (a) => lt(a[0], a[1]) || eq(a[0], [a[1]]) },
  gt: { params: ['value', 'value'], call: (a) => !(lt(a[0], a[1]) || eq(a[0], [a[1]])) },
  ge: { params: ['value', 'value'], call: (a) => !lt(a[0], a[1]) },
  // podman's and docker's additions (containers/common report, docker/cli templates)
  json: { params: ['any'], call: (a) => marshalJson(a[0]) ?? '' }, // errors print nothing, as there
  lower: { params: ['string'], call: (a) => mapRunes(str(a, 0), (c) => c.toLowerCase()) },
  upper: { params: ['string'], call: (a) => mapRunes(str(a, 0), (c) => c.toUpperCase()) },
  title: { params: ['string'], call: (a) => title(str(a, 0)) },
  split: { params: ['string', 'string'], call: (a) => str(a, 1) === '' ? [...str(a, 0)] : str(a, 0).split(str(a, 1)) },
  join: { params: ['strings', 'string'], call: (a) => (a[0] as string[]).join(str(a, 1)) },
  truncate: { params: ['string', 'int'], call: (a) => truncate(str(a, 0), num(a, 1)) },
  pad: { params: ['string', 'int', 'int'], call: (a) => pad(str(a, 0), num(a, 1), num(a, 2)) },
  contains: { params: ['string', 'string'], call: (a) => str(a, 0).includes(str(a, 1)) },
  replace: { params: ['string', 'string', 'string', 'int'], call: (a) => replace(str(a, 0), str(a, 1), str(a, 2), num(a, 3)) },
  trim: { params: ['string'], call: (a) => str(a, 0).trim() },
}

// Go's len; null is a nil map or slice (length 0), as elsewhere in this module.
function length (v: unknown): number {
  if (v === undefined) throw new FuncError('len of untyped nil')
  if (v === null) return 0
  if (typeof v === 'string') return Buffer.byteLength(v) // bytes, as Go's len
  if (Array.isArray(v)) return v.length
  if (isMap(v)) return mapKeys(v).length
  throw new FuncError(`len of type ${goType(v)}`)
}

function indexArg (ix: unknown, cap: number): number {
  if (ix === undefined || ix === null) throw new FuncError('cannot index slice/array with nil')
  if (!isInt(ix)) throw new FuncError(`cannot index slice/array with type ${goType(ix)}`)
  const x = Number(ix)
  if (x < 0 || x > cap) throw new FuncError(`index out of range: ${x}`)
  return x
}

// A missing map key gives the zero value: "" when the map holds strings (labels, annotations), else nothing.
function index (item: unknown, indexes: unknown[]): unknown {
  if (item === undefined) throw new FuncError('index of untyped nil')
  let cur: unknown = item
  for (const ix of indexes) {
    if (cur === undefined || cur === null) { // a nil map or slice
      if (typeof ix === 'string') { cur = ''; continue }
      throw new FuncError(`index out of range: ${formatV(ix)}`)
    }
    if (typeof cur === 'string' || Array.isArray(cur)) {
      const seq = typeof cur === 'string' ? Buffer.from(cur) : cur
      const x = indexArg(ix, seq.length)
      if (x >= seq.length) throw new FuncError(`index out of range: ${x}`)
      cur = seq[x]
    } else if (isMap(cur)) {
      if (typeof ix !== 'string') throw new FuncError(`value has type ${goType(ix)}; should be string`)
      const m: Obj = cur
      cur = Object.hasOwn(m, ix) && m[ix] !== undefined ? m[ix] : Object.values(m).every((v) => typeof v === 'string') ? '' : undefined
    } else {
      throw new FuncError(`can't index item of type ${goType(cur)}`)
    }
  }
  return cur
}

function slice (item: unknown, indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil')
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`)
  let seq: Buffer | unknown[]
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new FuncError('cannot 3-index slice a string')
    seq = Buffer.from(item)
  } else if (Array.isArray(item)) {
    seq = item
  } else {
    throw new FuncError(`can't slice item of type ${goType(item)}`)
  }
  const idx = [0, seq.length, seq.length]
  indexes.forEach((ix, i) => { idx[i] = indexArg(ix, seq.length) })
  if (idx[0] > idx[1]) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`)
  if (idx[1] > idx[2]) throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`)
  return Buffer.isBuffer(seq) ? seq.subarray(idx[0], idx[1]).toString('utf8') : seq.slice(idx[0], idx[1])
}

function callFunction (fn: unknown, args: unknown[]): unknown {
  if (fn === undefined || fn === null) throw new FuncError('call of nil')
  if (typeof fn !== 'function') throw new FuncError(`non-function of type ${goType(fn)}`)
  try {
    return (fn as (...a: unknown[]) => unknown)(...args)
  } catch (e) {
    throw new FuncError(e instanceof Error ? e.message : String(e))
  }
}

type Kind = 'bool' | 'number' | 'string' | 'other'
const basicKind = (v: unknown): Kind =>
  typeof v === 'boolean' ? 'bool' : typeof v === 'number' || typeof v === 'bigint' ? 'number' : typeof v === 'string' ? 'string' : 'other'

// Go's eq: true when a equals any of bs; numbers compare across int/float; nil equals only nil.
function eq (a: unknown, bs: unknown[]): boolean {
  if (bs.length === 0) throw new FuncError('missing argument for comparison')
  const k1 = basicKind(a)
  for (const b of bs) {
    const k2 = basicKind(b)
    let truth = false
    if (k1 !== k2) {
      if (!isNil(a) && !isNil(b)) throw new FuncError(`incompatible types for comparison: ${goType(a)} and ${goType(b)}`)
    } else if (k1 === 'number') {
      truth = (a as number) == (b as number) // loose on purpose: a bigint and a number compare by value
    } else if (k1 !== 'other') {
      truth = a === b
    } else if (isNil(a) || isNil(b)) {
      truth = isNil(a) && isNil(b)
    } else if (a instanceof Date && b instanceof Date) {
      truth = a.getTime() === b.getTime()
    } else {
      throw new FuncError(`non-comparable type ${formatV(b)}: ${goType(b)}`)
    }
    if (truth) return true
  }
  return false
}

function lt (a: unknown, b: unknown): boolean {
  const k1 = basicKind(a)
  const k2 = basicKind(b)
  if (k1 === 'other' || k2 === 'other') throw new FuncError('invalid type for comparison')
  if (k1 !== k2) throw new FuncError(`incompatible types for comparison: ${goType(a)} and ${goType(b)}`)
  if (k1 === 'bool') throw new FuncError('invalid type for comparison')
  return (a as number) < (b as number)
}

// Go's per-rune case mapping: a rune whose mapping is not one rune (ß → SS) stays as it is.
function mapRunes (s: string, f: (c: string) => string): string {
  let out = ''
  for (const c of s) {
    const m = f(c)
    out += [...m].length === 1 ? m : c
  }
  return out
}

// strings.Title: upper-case the first letter of each word; words are split at spaces and ASCII punctuation.
function title (s: string): string {
  let out = ''
  let prev = ' '
  for (const c of s) {
    const sep = prev <= '\x7f' ? !/[0-9A-Za-z_]/.test(prev) : !/[\p{L}\p{Nd}]/u.test(prev) && /\s/u.test(prev)
    out += sep ? mapRunes(c, (x) => x.toUpperCase()) : c
    prev = c
  }
  return out
}

// podman's truncate: the first n bytes, or the whole string when it is shorter.
function truncate (s: string, n: number): string {
  const b = Buffer.from(s)
  if (b.length < n) return s
  if (n < 0) throw new FuncError(`runtime error: slice bounds out of range [:${n}]`)
  return b.subarray(0, n).toString('utf8')
}

// podman's pad: spaces around a non-empty string.
function pad (s: string, prefix: number, suffix: number): string {
  if (prefix < 0 || suffix < 0) throw new FuncError('strings: negative Repeat count')
  return s === '' ? s : ' '.repeat(prefix) + s + ' '.repeat(suffix)
}

// strings.Replace: n < 0 replaces all; an empty `old` matches before every rune and at the end.
function replace (s: string, old: string, nw: string, n: number): string {
  if (old === nw || n === 0) return s
  const limit = n < 0 ? Infinity : n
  let out = ''
  let count = 0
  if (old === '') {
    const runes = [...s]
    for (let i = 0; i <= runes.length; i++) {
      if (count++ < limit) out += nw
      if (i < runes.length) out += runes[i]
    }
    return out
  }
  let start = 0
  for (let j = s.indexOf(old); j >= 0 && count < limit; j = s.indexOf(old, start), count++) {
    out += s.slice(start, j) + nw
    start = j + old.length
  }
  return out + s.slice(start)
}

// The argument text of html/js/urlquery: one string as is, otherwise fmt.Sprint (nil prints `<no value>`).
function evalArgs (args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0]
  return sprint(args.map((a) => isNil(a) ? '<no value>' : a))
}

const HTML_ESCAPES: Record<string, string> = { '"': '&#34;', '\'': '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\uFFFD' }
const htmlEscape = (s: string): string => s.replace(/["'&<>\0]/g, (c) => HTML_ESCAPES[c])

const JS_ESCAPES: Record<string, string> = { '\\': '\\\\', '\'': '\\\'', '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' }
function jsEscape (s: string): string {
  let out = ''
  for (const c of s) {
    const cp = c.codePointAt(0) as number
    if (c in JS_ESCAPES) out += JS_ESCAPES[c]
    else if (cp < 0x20) out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0')
    else if (cp < 0x80 || isPrint(c)) out += c
    else out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0')
  }
  return out
}

// url.QueryEscape: unreserved bytes stay, space becomes `+`, the rest `%XX`.
function queryEscape (s: string): string {
  let out = ''
  for (const b of Buffer.from(s)) {
    const c = String.fromCharCode(b)
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c
    else if (c === ' ') out += '+'
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}
