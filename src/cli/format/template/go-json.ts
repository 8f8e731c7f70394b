// json.Marshal-compatible output for `{{json}}`.

import { goTime } from './values'

// podman (containers/common report) and docker/cli encode `{{json}}` with SetEscapeHTML(false).
const JSON_ESCAPE_HTML = false

// encoding/json string quoting (Go 1.22+: \b and \f short forms; U+2028/2029 always escaped).
function jsonQuote (s: string): string {
  const SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' }
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    const code = s.charCodeAt(i)
    if (c in SHORT) out += SHORT[c]
    else if (code < 0x20 || code === 0x2028 || code === 0x2029 || (JSON_ESCAPE_HTML && '<>&'.includes(c))) {
      out += '\\u' + code.toString(16).padStart(4, '0')
    } else if (code >= 0xd800 && code < 0xdc00 && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) < 0xe000) {
      out += c + s[++i]
    } else if (code >= 0xd800 && code < 0xe000) {
      out += '\\ufffd' // a lone surrogate is not valid UTF-8
    } else {
      out += c
    }
  }
  return out + '"'
}

// json.Marshal: compact, object keys in insertion order (struct-like), Dates as RFC 3339.
// Returns null where Go fails (NaN, Infinity, functions, cycles).
export function marshalJson (v: unknown, seen = new Set<object>()): string | null {
  if (v === undefined || v === null) return 'null'
  switch (typeof v) {
    case 'string': return jsonQuote(v)
    case 'number': return Number.isFinite(v) ? (Object.is(v, -0) ? '-0' : String(v)) : null
    case 'bigint': return v.toString()
    case 'boolean': return String(v)
    case 'object': break
    default: return null
  }
  if (v instanceof Date) return jsonQuote(goTime(v, true))
  const toJSON = (v as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return marshalJson(toJSON.call(v), seen)
  if (seen.has(v)) return null
  seen.add(v)
  try {
    const parts: string[] = []
    if (Array.isArray(v)) {
      for (const e of v) {
        const j = marshalJson(typeof e === 'function' ? null : e, seen)
        if (j === null) return null
        parts.push(j)
      }
      return '[' + parts.join(',') + ']'
    }
    for (const [k, e] of Object.entries(v)) {
      if (e === undefined || typeof e === 'function' || typeof e === 'symbol') continue
      const j = marshalJson(e, seen)
      if (j === null) return null
      parts.push(jsonQuote(k) + ':' + j)
    }
    return '{' + parts.join(',') + '}'
  } finally {
    seen.delete(v)
  }
}
