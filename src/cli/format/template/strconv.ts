// Go's strconv quoting and the rune helpers it needs: Quote, Unquote, unicode.IsPrint.

// The whole code point starting at UTF-16 index `i` of `s`, or '' past the end.
export const charAt = (s: string, i: number): string => i < s.length ? String.fromCodePoint(s.codePointAt(i) as number) : ''

// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
export const isPrint = (c: string): boolean => c === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(c)

// strconv.Quote (asciiOnly: QuoteToASCII); `quote` may be `'` for rune literals.
export function goQuote (s: string, asciiOnly = false, quote = '"'): string {
  const SIMPLE: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' }
  let out = quote
  for (const c of s) {
    const cp = c.codePointAt(0) as number
    if (c === quote || c === '\\') out += '\\' + c
    else if (asciiOnly ? cp >= 0x20 && cp < 0x7f : isPrint(c)) out += c
    else if (c in SIMPLE) out += SIMPLE[c]
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0')
    else if (cp >= 0xd800 && cp < 0xe000) out += '\\ufffd'
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0')
    else out += '\\U' + cp.toString(16).padStart(8, '0')
  }
  return out + quote
}

// strconv.Unquote for "...", `...` and '...'; null on bad syntax. \x and octal escapes are bytes, as in Go.
export function unquote (s: string): string | null {
  const q = s[0]
  if (q === '`') return s.slice(1, -1).replaceAll('\r', '')
  const body = s.slice(1, -1)
  const bytes: number[] = []
  const SIMPLE: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 }
  for (let i = 0; i < body.length;) {
    const c = charAt(body, i)
    if (c === q) return null
    if (c !== '\\') { bytes.push(...Buffer.from(c)); i += c.length; continue }
    const e = body[i + 1] ?? ''
    i += 2
    if (e in SIMPLE) bytes.push(SIMPLE[e])
    else if (e === '"' || e === '\'') { if (e !== q) return null; bytes.push(e.charCodeAt(0)) } else if (e === 'x') {
      const h = body.slice(i, i + 2)
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return null
      bytes.push(parseInt(h, 16))
      i += 2
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8
      const h = body.slice(i, i + n)
      const cp = /^[0-9a-fA-F]+$/.test(h) && h.length === n ? parseInt(h, 16) : -1
      if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) return null
      bytes.push(...Buffer.from(String.fromCodePoint(cp)))
      i += n
    } else if (e >= '0' && e <= '7') {
      const o = body.slice(i - 1, i + 2)
      if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) return null
      bytes.push(parseInt(o, 8))
      i += 2
    } else return null
  }
  const text = Buffer.from(bytes).toString('utf8')
  return q === '\'' && [...text].length !== 1 ? null : text
}
