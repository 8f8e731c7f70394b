// fmt.Sprintf for templates: flags, width, precision and the verbs, printed as Go's fmt does.

import { decimalDigits, exactDigits, floatG, roundDigits, withExponent, withPoint } from './float'
import { charAt, goQuote, isPrint } from './strconv'
import { formatV, goTime, goType, isInt, isNil, mapKeys } from './values'
import type { Obj } from './values'

interface Spec { minus: boolean, plus: boolean, sharp: boolean, space: boolean, zero: boolean, width: number | null, prec: number | null }

// Pads to the width in runes; `zero` fills with 0 on the left (strings, as Go does).
function padTo (s: string, spec: Spec, zeroOk = true): string {
  const n = spec.width === null ? 0 : spec.width - [...s].length
  if (n <= 0) return s
  if (spec.minus) return s + ' '.repeat(n)
  return (spec.zero && zeroOk ? '0' : ' ').repeat(n) + s
}

// fmt.Sprintf for the verbs templates use: %v %s %q %d %x %X %o %O %b %c %U %t %e %f %g %T %%, flags + - # 0 space, width, .prec and *.
export function sprintf (format: string, args: unknown[]): string {
  let out = ''
  let argi = 0
  let i = 0
  const intArg = (): number | null => {
    const a = args[argi++]
    return isInt(a) ? Number(a) : null
  }
  const digits = (): number | null => {
    const m = /^[0-9]+/.exec(format.slice(i))
    if (m === null) return null
    i += m[0].length
    return Number(m[0])
  }
  while (i < format.length) {
    const pct = format.indexOf('%', i)
    if (pct < 0) { out += format.slice(i); break }
    out += format.slice(i, pct)
    i = pct + 1
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, width: null, prec: null }
    for (; i < format.length && '-+# 0'.includes(format[i]); i++) {
      const f = format[i]
      if (f === '-') { spec.minus = true; spec.zero = false } else if (f === '+') spec.plus = true
      else if (f === '#') spec.sharp = true
      else if (f === ' ') spec.space = true
      else spec.zero = !spec.minus
    }
    if (format[i] === '*') {
      i++
      const w = intArg()
      if (w === null) out += '%!(BADWIDTH)'
      else if (w < 0) { spec.minus = true; spec.zero = false; spec.width = -w } else spec.width = w
    } else {
      spec.width = digits()
    }
    if (format[i] === '.') {
      i++
      if (format[i] === '*') {
        i++
        const p = intArg()
        if (p === null) out += '%!(BADPREC)'
        spec.prec = p === null || p < 0 ? null : p
      } else {
        spec.prec = digits() ?? 0
      }
    }
    if (i >= format.length) { out += '%!(NOVERB)'; break }
    const verb = charAt(format, i)
    i += verb.length
    if (verb === '%') { out += '%'; continue }
    if (argi >= args.length) { out += `%!${verb}(MISSING)`; continue }
    out += formatArg(args[argi++], verb, spec)
  }
  if (argi < args.length) out += '%!(EXTRA ' + args.slice(argi).map((a) => isNil(a) ? '<nil>' : `${goType(a)}=${formatV(a)}`).join(', ') + ')'
  return out
}

const badVerb = (v: unknown, verb: string): string => isNil(v) ? `%!${verb}(<nil>)` : `%!${verb}(${goType(v)}=${formatV(v)})`

function formatArg (v: unknown, verb: string, spec: Spec): string {
  if (verb === 'T') return padTo(goType(v), spec)
  if (isNil(v)) return verb === 'v' ? padTo('<nil>', spec) : badVerb(v, verb)
  switch (typeof v) {
    case 'boolean': return verb === 't' || verb === 'v' ? padTo(String(v), spec) : badVerb(v, verb)
    case 'string': return formatString(v, verb, spec) ?? badVerb(v, verb)
    case 'bigint': return formatInteger(v, verb, spec) ?? badVerb(v, verb)
    case 'number':
      if ('eEfFgG'.includes(verb)) return formatFloat(v, verb, spec)
      if (Number.isInteger(v) && Math.abs(v) < 1e21) return formatInteger(BigInt(v), verb, spec) ?? badVerb(v, verb)
      return verb === 'v' ? formatFloat(v, 'g', spec) : badVerb(v, verb)
    case 'function': return verb === 'v' ? padTo('func', spec) : badVerb(v, verb)
  }
  if (Array.isArray(v)) return '[' + v.map((e) => formatArg(e, verb, spec)).join(' ') + ']'
  if (v instanceof Date) return verb === 'v' || verb === 's' ? padTo(goTime(v), spec) : badVerb(v, verb)
  const o = v as Obj
  return 'map[' + mapKeys(o).map((k) => `${formatArg(k, verb, spec)}:${formatArg(o[k], verb, spec)}`).join(' ') + ']'
}

function formatString (s: string, verb: string, spec: Spec): string | null {
  switch (verb) {
    case 's':
    case 'v':
      return padTo(spec.prec === null ? s : [...s].slice(0, spec.prec).join(''), spec)
    case 'q': {
      const t = spec.prec === null ? s : [...s].slice(0, spec.prec).join('')
      const raw = spec.sharp && !/[`\x00-\x08\x0a-\x1f\x7f\ufeff]/.test(t)
      return padTo(raw ? '`' + t + '`' : goQuote(t, spec.plus), spec)
    }
    case 'x':
    case 'X': {
      let b = Buffer.from(s)
      if (spec.prec !== null) b = b.subarray(0, spec.prec)
      const hex = [...b].map((x) => x.toString(16).padStart(2, '0'))
      const prefix = spec.sharp ? '0x' : ''
      const text = spec.space ? hex.map((h) => prefix + h).join(' ') : prefix + hex.join('')
      return padTo(verb === 'X' ? text.toUpperCase() : text, spec)
    }
    default:
      return null
  }
}

function formatInteger (n: bigint, verb: string, spec: Spec): string | null {
  const cpString = (): string => n >= 0n && n <= 0x10ffffn && (n < 0xd800n || n >= 0xe000n) ? String.fromCodePoint(Number(n)) : '\uFFFD'
  let base = 10
  let prefix = ''
  switch (verb) {
    case 'd': case 'v': break
    case 'b': base = 2; if (spec.sharp) prefix = '0b'; break
    case 'o': base = 8; if (spec.sharp) prefix = '0'; break
    case 'O': base = 8; prefix = '0o'; break
    case 'x': base = 16; if (spec.sharp) prefix = '0x'; break
    case 'X': base = 16; if (spec.sharp) prefix = '0X'; break
    case 'c': return padTo(cpString(), spec)
    case 'q': return padTo(goQuote(cpString(), spec.plus, '\''), spec)
    case 'U': {
      const u = 'U+' + (n < 0n ? -n : n).toString(16).toUpperCase().padStart(4, '0')
      return padTo(spec.sharp && isPrint(cpString()) ? `${u} '${cpString()}'` : u, spec)
    }
    default: return null
  }
  const neg = n < 0n
  let digits = (neg ? -n : n).toString(base)
  if (verb === 'X') digits = digits.toUpperCase()
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : ''
  if (spec.prec !== null) {
    digits = spec.prec === 0 && n === 0n ? '' : digits.padStart(spec.prec, '0')
  } else if (spec.zero && !spec.minus && spec.width !== null) {
    digits = digits.padStart(spec.width - sign.length, '0') // the 0x prefix is not counted, as in Go
  }
  if (prefix === '0' && digits.startsWith('0')) prefix = ''
  return padTo(sign + prefix + digits, spec, false)
}

function formatFloat (x: number, verb: string, spec: Spec): string {
  const lower = verb.toLowerCase()
  let s: string
  if (!Number.isFinite(x)) {
    s = Number.isNaN(x) ? (spec.plus ? '+NaN' : spec.space ? ' NaN' : 'NaN') : x > 0 ? '+Inf' : '-Inf'
    return padTo(s, spec, false)
  }
  const ax = Math.abs(x)
  if (lower === 'e') {
    const prec = spec.prec ?? 6
    const { digits, exp } = ax === 0 ? { digits: '0', exp: 0 } : decimalDigits(ax, prec + 1)
    s = withExponent(digits, exp, prec)
  } else if (lower === 'f') {
    const prec = spec.prec ?? 6
    const exact = exactDigits(ax)
    const r = roundDigits(exact, exact.dp + prec)
    s = withPoint(r.digits, r.dp - 1, prec)
  } else {
    s = floatG(ax, spec.prec ?? -1)
  }
  if (verb === 'E' || verb === 'G') s = s.toUpperCase()
  const sign = x < 0 || Object.is(x, -0) ? '-' : spec.plus ? '+' : spec.space ? ' ' : ''
  if (spec.zero && !spec.minus && spec.width !== null) return sign + s.padStart(spec.width - sign.length, '0')
  return padTo(sign + s, spec, false)
}
