// The template lexer: splits source into text and action tokens, handling trim markers and comments.

import { lineAt } from './errors'
import { charAt, goQuote, isPrint } from './strconv'

// The kinds of token the lexer emits (Go's itemType).
export type TokenType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'field' | 'identifier' | 'variable' | 'dot' | 'nil'
  | 'bool' | 'number' | 'charConstant' | 'string' | 'rawString' | 'keyword' | 'pipe' | 'leftParen'
  | 'rightParen' | 'declare' | 'assign' | 'char' | 'eof' | 'error'

// One lexed token: its kind, source text, index in the source and line.
export interface Token { type: TokenType, val: string, pos: number, line: number }

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with'])

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n'
const isAlnum = (c: string): boolean => c === '_' || /^[\p{L}\p{Nd}]$/u.test(c)

// Go's %#U: `U+0021 '!'`.
function formatU (ch: string): string {
  const cp = ch === '' ? 0 : ch.codePointAt(0) as number
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0')
  return isPrint(ch) ? `${hex} '${ch}'` : hex
}

// Scans the whole input up front; the token list ends with `eof` or with one `error` token.
export class Lexer {
  readonly tokens: Token[] = []
  readonly #src: string

  constructor (src: string) {
    this.#src = src
    this.#run()
  }

  #push (type: TokenType, start: number, end: number): number {
    this.tokens.push({ type, val: this.#src.slice(start, end), pos: start, line: lineAt(this.#src, start) })
    return end
  }

  #fail (msg: string, at: number): number {
    this.tokens.push({ type: 'error', val: msg, pos: at, line: lineAt(this.#src, at) })
    return -1
  }

  // 2 for `}}`, 4 for ` -}}` (trim marker: any space, then `-`), 0 when not at a right delimiter.
  #rightDelimAt (p: number): number {
    const s = this.#src
    if (s.startsWith('}}', p)) return 2
    return isSpace(s[p]) && s[p + 1] === '-' && s.startsWith('}}', p + 2) ? 4 : 0
  }

  #run (): void {
    const src = this.#src
    let pos = 0
    while (true) {
      const open = src.indexOf('{{', pos)
      if (open < 0) {
        if (pos < src.length) this.#push('text', pos, src.length)
        this.#push('eof', src.length, src.length)
        return
      }
      const trimLeft = src[open + 2] === '-' && isSpace(src[open + 3]) // `{{-3}}` is a number, `{{- 3}}` trims
      let textEnd = open
      if (trimLeft) while (textEnd > pos && isSpace(src[textEnd - 1])) textEnd--
      if (textEnd > pos) this.#push('text', pos, textEnd)
      let p = open + (trimLeft ? 4 : 2)
      if (src.startsWith('/*', p)) {
        const close = src.indexOf('*/', p + 2)
        if (close < 0) { this.#fail('unclosed comment', open); return }
        p = close + 2
        const rd = this.#rightDelimAt(p)
        if (rd === 0) { this.#fail('comment ends before closing delimiter', p); return }
        p += rd
        if (rd === 4) while (isSpace(src[p])) p++
        pos = p
        continue
      }
      this.#push('leftDelim', open, open + 2)
      const end = this.#lexAction(p)
      if (end < 0) return
      pos = end
    }
  }

  #lexAction (start: number): number {
    const src = this.#src
    let p = start
    let depth = 0
    while (p >= 0) {
      const rd = this.#rightDelimAt(p)
      if (rd > 0) {
        if (depth > 0) return this.#fail('unclosed left paren', p)
        const at = rd === 4 ? p + 2 : p
        this.#push('rightDelim', at, at + 2)
        p += rd
        if (rd === 4) while (isSpace(src[p])) p++
        return p
      }
      if (p >= src.length) return this.#fail('unclosed action', p)
      const c = src[p]
      if (isSpace(c)) {
        let q = p + 1
        while (isSpace(src[q]) && this.#rightDelimAt(q) !== 4) q++
        p = this.#push('space', p, q)
        continue
      }
      switch (c) {
        case ':':
          p = src[p + 1] === '=' ? this.#push('declare', p, p + 2) : this.#fail('expected :=', p)
          break
        case '=': p = this.#push('assign', p, p + 1); break
        case '|': p = this.#push('pipe', p, p + 1); break
        case '(': depth++; p = this.#push('leftParen', p, p + 1); break
        case ')':
          depth--
          p = depth < 0 ? this.#fail(`unexpected right paren ${formatU(')')}`, p) : this.#push('rightParen', p, p + 1)
          break
        case '"': p = this.#lexQuote(p, 'string', 'unterminated quoted string'); break
        case '\'': p = this.#lexQuote(p, 'charConstant', 'unterminated character constant'); break
        case '`': {
          const close = src.indexOf('`', p + 1)
          p = close < 0 ? this.#fail('unterminated raw quoted string', p) : this.#push('rawString', p, close + 1)
          break
        }
        case '$': p = this.#lexWord(p, 'variable'); break
        case '.': p = /[0-9]/.test(src[p + 1] ?? '') ? this.#lexNumber(p) : this.#lexWord(p, 'field'); break
        default: {
          const ch = charAt(src, p)
          if (c === '+' || c === '-' || (c >= '0' && c <= '9')) p = this.#lexNumber(p)
          else if (isAlnum(ch)) p = this.#lexWord(p, 'identifier')
          else if (ch >= ' ' && ch <= '~') p = this.#push('char', p, p + 1)
          else p = this.#fail(`unrecognized character in action: ${formatU(ch)}`, p)
        }
      }
    }
    return p
  }

  #lexQuote (p: number, type: TokenType, unterminated: string): number {
    const src = this.#src
    const quote = src[p]
    let q = p + 1
    while (true) {
      const c = src[q]
      if (c === '\\') {
        if (src[q + 1] === undefined || src[q + 1] === '\n') return this.#fail(unterminated, p)
        q += 2
        continue
      }
      if (c === undefined || c === '\n') return this.#fail(unterminated, p)
      q++
      if (c === quote) return this.#push(type, p, q)
    }
  }

  #atTerminator (q: number): boolean {
    const c = this.#src[q]
    return c === undefined || isSpace(c) || '.,|:)(}'.includes(c)
  }

  // `.Field`, `$var` (or bare `.`/`$`), and identifiers, keywords, true/false/nil.
  #lexWord (p: number, type: 'field' | 'variable' | 'identifier'): number {
    const src = this.#src
    let q = type === 'identifier' ? p : p + 1
    if (type !== 'identifier' && this.#atTerminator(q)) return this.#push(type === 'field' ? 'dot' : 'variable', p, q)
    for (let ch = charAt(src, q); ch !== '' && isAlnum(ch); ch = charAt(src, q)) q += ch.length
    if (!this.#atTerminator(q)) return this.#fail(`bad character ${formatU(charAt(src, q))}`, q)
    if (type !== 'identifier') return this.#push(type, p, q)
    const word = src.slice(p, q)
    const kind: TokenType = KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier'
    return this.#push(kind, p, q)
  }

  // Accepts more than is valid (as Go's scanner does); the parser rejects what does not parse.
  #lexNumber (p: number): number {
    const src = this.#src
    let q = p
    const accept = (set: string): boolean => {
      if (q < src.length && set.includes(src[q])) { q++; return true }
      return false
    }
    const run = (set: string): void => { while (accept(set)) { /* consume */ } }
    accept('+-')
    let digits = '0123456789_'
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_'
      else if (accept('oO')) digits = '01234567_'
      else if (accept('bB')) digits = '01_'
    }
    run(digits)
    if (accept('.')) run(digits)
    if (digits.length === 11 && accept('eE')) { accept('+-'); run('0123456789_') }
    if (digits.length === 23 && accept('pP')) { accept('+-'); run('0123456789_') }
    accept('i')
    const next = charAt(src, q)
    if (next !== '' && isAlnum(next)) return this.#fail(`bad number syntax: ${goQuote(src.slice(p, q + next.length))}`, p)
    return this.#push('number', p, q)
  }
}

// Go's item.String(), used in "unexpected X in Y".
export function tokenString (t: Token): string {
  if (t.type === 'eof') return 'EOF'
  if (t.type === 'error') return t.val
  if (t.type === 'keyword' || t.type === 'nil' || t.type === 'dot') return `<${t.val}>`
  const runes = [...t.val]
  return runes.length > 10 ? goQuote(runes.slice(0, 10).join('')) + '...' : goQuote(t.val)
}
