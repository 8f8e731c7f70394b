// Go's text/template, the `--format` language of podman and docker: lexer, parser, evaluator, fmt and json.
// Data is JSON-shaped: plain objects act as Go maps (a missing key prints `<no value>`, keys iterate sorted),
// arrays as slices, null as a nil pointer (`<nil>`); class-instance methods are called like Go methods.
// Not supported: {{define}}, {{template}}, {{block}}, complex numbers, Go methods such as time.Time.Format.
// The file is long because the brief gives this concern one file; the sections below split cleanly if needed.

const NAME = 'output' // the template name in messages, as podman prints `template: output:1: ...`
// podman (containers/common report) and docker/cli encode `{{json}}` with SetEscapeHTML(false).
const JSON_ESCAPE_HTML = false

// Thrown for parse and execution errors; one line, worded like Go's (`template: output:1: ...`).
export class TemplateError extends Error {
  constructor (message: string) {
    super(message.replaceAll('\n', '\\n'))
    this.name = 'TemplateError'
  }
}

// Parses `src` once; the returned function executes it against one data value.
export function compileTemplate (src: string): (data: unknown) => string {
  const root = new Parser(src).parse()
  return (data) => new Executor(src, data).run(root)
}

// Parses and executes `src` against `data` in one call.
export function renderTemplate (src: string, data: unknown): string {
  return compileTemplate(src)(data)
}

// ---------------------------------------------------------------------------------------------- lexer

type TokenType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'field' | 'identifier' | 'variable' | 'dot' | 'nil'
  | 'bool' | 'number' | 'charConstant' | 'string' | 'rawString' | 'keyword' | 'pipe' | 'leftParen'
  | 'rightParen' | 'declare' | 'assign' | 'char' | 'eof' | 'error'

interface Token { type: TokenType, val: string, pos: number, line: number }

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with'])

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n'
const isAlnum = (c: string): boolean => c === '_' || /^[\p{L}\p{Nd}]$/u.test(c)
const charAt = (s: string, i: number): string => i < s.length ? String.fromCodePoint(s.codePointAt(i) as number) : ''

function lineAt (src: string, pos: number): number {
  let line = 1
  for (let i = src.indexOf('\n'); i >= 0 && i < pos; i = src.indexOf('\n', i + 1)) line++
  return line
}

// Go's %#U: `U+0021 '!'`.
function formatU (ch: string): string {
  const cp = ch === '' ? 0 : ch.codePointAt(0) as number
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0')
  return isPrint(ch) ? `${hex} '${ch}'` : hex
}

// Scans the whole input up front; the token list ends with `eof` or with one `error` token.
class Lexer {
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
function tokenString (t: Token): string {
  if (t.type === 'eof') return 'EOF'
  if (t.type === 'error') return t.val
  if (t.type === 'keyword' || t.type === 'nil' || t.type === 'dot') return `<${t.val}>`
  const runes = [...t.val]
  return runes.length > 10 ? goQuote(runes.slice(0, 10).join('')) + '...' : goQuote(t.val)
}

// strconv.Unquote for "...", `...` and '...'; null on bad syntax. \x and octal escapes are bytes, as in Go.
function unquote (s: string): string | null {
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

// A number literal: ints (decimal, 0x, 0o, 0b, leading-0 octal) stay exact (bigint beyond 2^53), floats are numbers.
function parseNumber (text: string): number | bigint | null {
  if (text.startsWith('\'')) {
    const s = unquote(text)
    return s === null ? null : s.codePointAt(0) as number
  }
  let t = text.replaceAll('_', '')
  if (t.endsWith('i')) return null // complex numbers are not supported
  const neg = t.startsWith('-')
  if (t[0] === '+' || t[0] === '-') t = t.slice(1)
  if (/^(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]+|[1-9][0-9]*|0)$/.test(t)) {
    let b = /^0[0-7]+$/.test(t) ? BigInt('0o' + t.slice(1)) : BigInt(t)
    if (neg) b = -b
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
  }
  if (!/^[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?$/.test(t) || !/[0-9]/.test(t.replace(/[eE].*/, ''))) return null
  const f = Number(t)
  return Number.isNaN(f) ? null : neg ? -f : f
}

// ---------------------------------------------------------------------------------------------- parser

type ArgNode =
  | { kind: 'field', pos: number, ident: string[] }
  | { kind: 'variable', pos: number, ident: string[] }
  | { kind: 'chain', pos: number, node: ArgNode, field: string[] }
  | { kind: 'dot', pos: number }
  | { kind: 'nil', pos: number }
  | { kind: 'bool', pos: number, value: boolean }
  | { kind: 'number', pos: number, text: string, value: number | bigint }
  | { kind: 'string', pos: number, quoted: string, text: string }
  | { kind: 'identifier', pos: number, name: string }
  | PipeNode

interface CommandNode { kind: 'command', pos: number, args: ArgNode[] }
interface PipeNode { kind: 'pipe', pos: number, isAssign: boolean, decl: string[], cmds: CommandNode[] }
interface ControlNode { kind: 'if' | 'with' | 'range', pos: number, pipe: PipeNode, list: TNode[], elseList: TNode[] | null }

type TNode =
  | { kind: 'text', pos: number, text: string }
  | { kind: 'action', pos: number, pipe: PipeNode }
  | ControlNode
  | { kind: 'break' | 'continue', pos: number }

// `{{end}}` and `{{else}}` only ever travel from action() back to the list that owns them.
type Marker = { kind: 'end', pos: number } | { kind: 'else', pos: number }

type AnyNode = TNode | ArgNode | CommandNode

const OPERAND_START = new Set<TokenType>(['bool', 'charConstant', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen'])

class Parser {
  readonly #tokens: Token[]
  #i = 0
  #last: Token
  readonly #vars: string[] = ['$']
  #rangeDepth = 0
  #actionLine = 0

  constructor (src: string) {
    this.#tokens = new Lexer(src).tokens
    this.#last = this.#tokens[0]
  }

  parse (): TNode[] {
    const root: TNode[] = []
    while (this.#peek().type !== 'eof') {
      const n = this.#textOrAction()
      if (n.kind === 'end' || n.kind === 'else') this.#errorf(`unexpected {{${n.kind}}}`)
      root.push(n)
    }
    return root
  }

  #peek (): Token { return this.#tokens[Math.min(this.#i, this.#tokens.length - 1)] }
  #next (): Token { this.#last = this.#peek(); this.#i++; return this.#last }
  #backup (): void { this.#i-- }

  #nextNonSpace (): Token {
    let t = this.#next()
    while (t.type === 'space') t = this.#next()
    return t
  }

  #peekNonSpace (): Token {
    const t = this.#nextNonSpace()
    this.#backup()
    return t
  }

  #errorf (msg: string, token: Token = this.#last): never {
    throw new TemplateError(`template: ${NAME}:${token.line}: ${msg}`)
  }

  #unexpected (token: Token, context: string): never {
    if (token.type === 'error') {
      let extra = ''
      if (this.#actionLine !== 0 && this.#actionLine !== token.line) {
        extra = ` in action started at ${NAME}:${this.#actionLine}`
        if (token.val.endsWith(' action')) extra = extra.slice(' in action'.length)
      }
      this.#errorf(token.val + extra, token)
    }
    this.#errorf(`unexpected ${tokenString(token)} in ${context}`, token)
  }

  #expect (type: TokenType, context: string): Token {
    const t = this.#nextNonSpace()
    if (t.type !== type) this.#unexpected(t, context)
    return t
  }

  #itemList (): [TNode[], Marker] {
    const list: TNode[] = []
    while (this.#peekNonSpace().type !== 'eof') {
      const n = this.#textOrAction()
      if (n.kind === 'end' || n.kind === 'else') return [list, n]
      list.push(n)
    }
    this.#errorf('unexpected EOF')
  }

  #textOrAction (): TNode | Marker {
    const token = this.#nextNonSpace()
    if (token.type === 'text') return { kind: 'text', pos: token.pos, text: token.val }
    if (token.type !== 'leftDelim') this.#unexpected(token, 'input')
    this.#actionLine = token.line
    try {
      return this.#action()
    } finally {
      this.#actionLine = 0
    }
  }

  #action (): TNode | Marker {
    const token = this.#nextNonSpace()
    if (token.type === 'keyword') {
      switch (token.val) {
        case 'break':
        case 'continue':
          if (this.#nextNonSpace().type !== 'rightDelim') this.#unexpected(this.#last, `{{${token.val}}}`)
          if (this.#rangeDepth === 0) this.#errorf(`{{${token.val}}} outside {{range}}`)
          return { kind: token.val, pos: token.pos }
        case 'else': {
          const peek = this.#peekNonSpace() // `{{else if}}` / `{{else with}}` leave the keyword for control()
          if (peek.type === 'keyword' && (peek.val === 'if' || peek.val === 'with')) return { kind: 'else', pos: peek.pos }
          return { kind: 'else', pos: this.#expect('rightDelim', 'else').pos }
        }
        case 'end': return { kind: 'end', pos: this.#expect('rightDelim', 'end').pos }
        case 'if':
        case 'range':
        case 'with':
          return this.#control(token.val)
        default: this.#errorf(`{{${token.val}}} is not supported`)
      }
    }
    this.#backup()
    return { kind: 'action', pos: token.pos, pipe: this.#pipeline('command', 'rightDelim') }
  }

  #control (context: 'if' | 'range' | 'with'): ControlNode {
    const mark = this.#vars.length // variables declared in the pipeline or body end with the block
    try {
      const pipe = this.#pipeline(context, 'rightDelim')
      if (context === 'range') this.#rangeDepth++
      const [list, next] = this.#itemList()
      if (context === 'range') this.#rangeDepth--
      let elseList: TNode[] | null = null
      if (next.kind === 'else') {
        const peek = this.#peek()
        if (context !== 'range' && peek.type === 'keyword' && peek.val === context) {
          this.#next() // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing the outer {{end}}
          elseList = [this.#control(context)]
        } else {
          const [rest, end] = this.#itemList()
          if (end.kind !== 'end') this.#errorf(`expected end; found {{${end.kind}}}`)
          elseList = rest
        }
      }
      return { kind: context, pos: pipe.pos, pipe, list, elseList }
    } finally {
      this.#vars.length = mark
    }
  }

  #pipeline (context: string, end: TokenType): PipeNode {
    const pipe: PipeNode = { kind: 'pipe', pos: this.#peekNonSpace().pos, isAssign: false, decl: [], cmds: [] }
    while (this.#peekNonSpace().type === 'variable') {
      const save = this.#i
      const v = this.#next()
      const next = this.#peekNonSpace()
      if (next.type === 'assign' || next.type === 'declare') {
        this.#nextNonSpace()
        pipe.isAssign = next.type === 'assign'
        pipe.decl.push(v.val)
        this.#vars.push(v.val)
        break
      }
      if (next.type === 'char' && next.val === ',') {
        this.#nextNonSpace()
        pipe.decl.push(v.val)
        this.#vars.push(v.val)
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.#peekNonSpace().type
          if (t === 'variable' || t === 'rightDelim' || t === 'rightParen') continue
          this.#errorf('range can only initialize variables')
        }
        this.#errorf(`too many declarations in ${context}`)
      }
      this.#i = save // `$x` is an operand, not a declaration
      break
    }
    while (true) {
      const token = this.#nextNonSpace()
      if (token.type === end) break
      if (!OPERAND_START.has(token.type)) this.#unexpected(token, context)
      this.#backup()
      pipe.cmds.push(this.#command())
    }
    if (pipe.cmds.length === 0) this.#errorf(`missing value for ${context}`)
    pipe.cmds.slice(1).forEach((c, i) => {
      if (['bool', 'dot', 'nil', 'number', 'string'].includes(c.args[0].kind)) this.#errorf(`non executable command in pipeline stage ${i + 2}`)
    })
    return pipe
  }

  #command (): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.#peekNonSpace().pos, args: [] }
    while (true) {
      this.#peekNonSpace()
      const operand = this.#operand()
      if (operand !== null) cmd.args.push(operand)
      const token = this.#next()
      if (token.type === 'space') continue
      if (token.type === 'rightDelim' || token.type === 'rightParen') { this.#backup(); break }
      if (token.type === 'pipe') break
      this.#unexpected(token, 'operand')
    }
    if (cmd.args.length === 0) this.#errorf('empty command')
    return cmd
  }

  #operand (): ArgNode | null {
    const node = this.#term()
    if (node === null || this.#peek().type !== 'field') return node
    const pos = this.#peek().pos
    const fields: string[] = []
    while (this.#peek().type === 'field') fields.push(this.#next().val.slice(1))
    switch (node.kind) {
      case 'field': return { kind: 'field', pos, ident: [...node.ident, ...fields] }
      case 'variable': return { kind: 'variable', pos, ident: [...node.ident, ...fields] }
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        this.#errorf(`unexpected . after term ${goQuote(argString(node))}`)
      default: return { kind: 'chain', pos, node, field: fields }
    }
  }

  #term (): ArgNode | null {
    const token = this.#nextNonSpace()
    const pos = token.pos
    switch (token.type) {
      case 'identifier':
        if (!Object.hasOwn(BUILTINS, token.val)) this.#errorf(`function ${goQuote(token.val)} not defined`)
        return { kind: 'identifier', pos, name: token.val }
      case 'dot': return { kind: 'dot', pos }
      case 'nil': return { kind: 'nil', pos }
      case 'variable':
        if (!this.#vars.includes(token.val)) this.#errorf(`undefined variable ${goQuote(token.val)}`)
        return { kind: 'variable', pos, ident: [token.val] }
      case 'field': return { kind: 'field', pos, ident: [token.val.slice(1)] }
      case 'bool': return { kind: 'bool', pos, value: token.val === 'true' }
      case 'charConstant':
      case 'number': {
        const value = parseNumber(token.val)
        if (value === null) this.#errorf(token.type === 'number' ? `illegal number syntax: ${goQuote(token.val)}` : `malformed character constant: ${token.val}`)
        return { kind: 'number', pos, text: token.val, value }
      }
      case 'leftParen': return this.#pipeline('parenthesized pipeline', 'rightParen')
      case 'string':
      case 'rawString': {
        const text = unquote(token.val)
        if (text === null) this.#errorf('invalid syntax')
        return { kind: 'string', pos, quoted: token.val, text }
      }
      default:
        this.#backup()
        return null
    }
  }
}

// Source-like text of a node, for `executing "output" at <...>` (Go's Node.String()).
function argString (n: ArgNode): string {
  switch (n.kind) {
    case 'field': return '.' + n.ident.join('.')
    case 'variable': return n.ident.join('.')
    case 'chain': return (n.node.kind === 'pipe' ? `(${pipeString(n.node)})` : argString(n.node)) + '.' + n.field.join('.')
    case 'dot': return '.'
    case 'nil': return 'nil'
    case 'bool': return String(n.value)
    case 'number': return n.text
    case 'string': return n.quoted
    case 'identifier': return n.name
    case 'pipe': return pipeString(n)
  }
}

const commandString = (c: CommandNode): string => c.args.map((a) => a.kind === 'pipe' ? `(${pipeString(a)})` : argString(a)).join(' ')

function pipeString (p: PipeNode): string {
  const decl = p.decl.length > 0 ? p.decl.join(', ') + (p.isAssign ? ' = ' : ' := ') : ''
  return decl + p.cmds.map(commandString).join(' | ')
}

function nodeString (n: AnyNode): string {
  switch (n.kind) {
    case 'text': return n.text
    case 'action': return `{{${pipeString(n.pipe)}}}`
    case 'if': case 'with': case 'range': {
      const body = n.list.map(nodeString).join('')
      const alt = n.elseList === null ? '' : `{{else}}${n.elseList.map(nodeString).join('')}`
      return `{{${n.kind} ${pipeString(n.pipe)}}}${body}${alt}{{end}}`
    }
    case 'break': case 'continue': return `{{${n.kind}}}`
    case 'command': return commandString(n)
    default: return argString(n)
  }
}

// ---------------------------------------------------------------------------------------------- evaluator

const MISSING = Symbol('missing') // "no value piped in", distinct from a piped-in undefined
const BREAK = Symbol('break')
const CONTINUE = Symbol('continue')

type Obj = Record<string, unknown>

// An error a builtin returns; the evaluator reports it as `error calling NAME: ...`.
class FuncError extends Error {}

// Plain objects (and class instances) are Go maps; arrays and Dates are not.
const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
const mapKeys = (o: Obj): string[] => Object.keys(o).filter((k) => o[k] !== undefined).sort()
const isInt = (v: unknown): v is number | bigint => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))

// Go's truth: false for nil, missing, zero numbers, false, and empty strings, slices and maps.
function isTrue (v: unknown): boolean {
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
function goType (v: unknown): string {
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

function location (src: string, pos: number): string {
  const nl = src.lastIndexOf('\n', pos - 1)
  return `${lineAt(src, pos)}:${Buffer.byteLength(src.slice(nl + 1, pos))}`
}

class Executor {
  readonly #src: string
  readonly #vars: Array<{ name: string, value: unknown }>
  readonly #out: string[] = []
  #node: AnyNode | null = null

  constructor (src: string, data: unknown) {
    this.#src = src
    this.#vars = [{ name: '$', value: data }]
  }

  run (root: TNode[]): string {
    const dot = this.#vars[0].value
    for (const n of root) this.#walk(dot, n)
    return this.#out.join('')
  }

  #errorf (msg: string): never {
    const n = this.#node
    if (n === null) throw new TemplateError(`template: ${NAME}: ${msg}`)
    throw new TemplateError(`template: ${NAME}:${location(this.#src, n.pos)}: executing "${NAME}" at <${nodeString(n)}>: ${msg}`)
  }

  #varValue (name: string): unknown {
    const v = this.#vars.findLast((x) => x.name === name)
    if (v === undefined) this.#errorf(`undefined variable: ${name}`)
    return v.value
  }

  #setVar (name: string, value: unknown): void {
    const v = this.#vars.findLast((x) => x.name === name)
    if (v === undefined) this.#errorf(`undefined variable: ${name}`)
    v.value = value
  }

  #walk (dot: unknown, node: TNode): void {
    this.#node = node
    switch (node.kind) {
      case 'text': this.#out.push(node.text); return
      case 'action': {
        const v = this.#evalPipeline(dot, node.pipe)
        if (node.pipe.decl.length > 0) return // declarations print nothing
        this.#node = node
        if (typeof v === 'function') this.#errorf(`can't print ${nodeString(node)} of type func`)
        this.#out.push(v === undefined ? '<no value>' : formatV(v))
        return
      }
      case 'if':
      case 'with': {
        const mark = this.#vars.length
        try {
          const v = this.#evalPipeline(dot, node.pipe)
          if (isTrue(v)) this.#walkList(node.kind === 'with' ? v : dot, node.list)
          else if (node.elseList !== null) this.#walkList(dot, node.elseList)
        } finally {
          this.#vars.length = mark
        }
        return
      }
      case 'range': this.#walkRange(dot, node); return
      case 'break': throw BREAK
      case 'continue': throw CONTINUE
    }
  }

  #walkList (dot: unknown, list: TNode[]): void {
    for (const n of list) this.#walk(dot, n)
  }

  // Arrays by index, maps in sorted key order, integers as 0..n-1; nil and missing run {{else}}.
  #walkRange (dot: unknown, node: ControlNode): void {
    const mark = this.#vars.length
    try {
      const val = this.#evalPipeline(dot, node.pipe)
      const inner = this.#vars.length
      const { decl, isAssign } = node.pipe
      let ran = false
      const iterate = (index: unknown, elem: unknown): boolean => {
        ran = true
        if (decl.length > 0) {
          if (isAssign) this.#setVar(decl[0], decl.length > 1 ? index : elem)
          else this.#vars[this.#vars.length - 1].value = elem
        }
        if (decl.length > 1) {
          if (isAssign) this.#setVar(decl[1], elem)
          else this.#vars[this.#vars.length - 2].value = index
        }
        try {
          this.#walkList(elem, node.list)
        } catch (e) {
          if (e === BREAK) return false
          if (e !== CONTINUE) throw e
        } finally {
          this.#vars.length = inner
        }
        return true
      }
      if (Array.isArray(val)) {
        for (let i = 0; i < val.length && iterate(i, val[i]); i++) { /* iterate */ }
      } else if (isMap(val)) {
        for (const k of mapKeys(val)) if (!iterate(k, val[k])) break
      } else if (isInt(val)) {
        if (decl.length > 1) this.#errorf(`can't use ${formatV(val)} to iterate over more than one variable`)
        for (let i = 0; i < Number(val) && iterate(i, i); i++) { /* iterate */ }
      } else if (val !== undefined && val !== null) {
        this.#errorf(`range can't iterate over ${formatV(val)}`)
      }
      if (!ran && node.elseList !== null) this.#walkList(dot, node.elseList)
    } finally {
      this.#vars.length = mark
    }
  }

  #evalPipeline (dot: unknown, pipe: PipeNode): unknown {
    this.#node = pipe
    let value: unknown = MISSING
    for (const cmd of pipe.cmds) value = this.#evalCommand(dot, cmd, value) // each result is the next one's last arg
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.#setVar(name, value)
      else this.#vars.push({ name, value })
    }
    return value
  }

  #evalCommand (dot: unknown, cmd: CommandNode, final: unknown): unknown {
    const first = cmd.args[0]
    switch (first.kind) {
      case 'field':
        this.#node = first
        return this.#evalFieldChain(dot, dot, first, first.ident, cmd.args, final)
      case 'chain': return this.#evalChain(dot, first, cmd.args, final)
      case 'identifier': return this.#evalFunction(dot, first, cmd, cmd.args, final)
      case 'variable': return this.#evalVariable(dot, first, cmd.args, final)
      case 'pipe':
        this.#notAFunction(cmd.args, final)
        return this.#evalPipeline(dot, first)
    }
    this.#node = first
    this.#notAFunction(cmd.args, final)
    switch (first.kind) {
      case 'bool': return first.value
      case 'dot': return dot
      case 'number': return first.value
      case 'string': return first.text
      case 'nil': this.#errorf('nil is not a command')
    }
  }

  #notAFunction (args: ArgNode[], final: unknown): void {
    if (args.length > 1 || final !== MISSING) this.#errorf(`can't give argument to non-function ${argString(args[0])}`)
  }

  #evalChain (dot: unknown, chain: Extract<ArgNode, { kind: 'chain' }>, args: ArgNode[], final: unknown): unknown {
    this.#node = chain
    if (chain.node.kind === 'nil') this.#errorf(`indirection through explicit nil in ${argString(chain)}`)
    const receiver = this.#evalArg(dot, chain.node)
    return this.#evalFieldChain(dot, receiver, chain, chain.field, args, final)
  }

  #evalVariable (dot: unknown, v: Extract<ArgNode, { kind: 'variable' }>, args: ArgNode[], final: unknown): unknown {
    this.#node = v
    const value = this.#varValue(v.ident[0])
    if (v.ident.length === 1) {
      this.#notAFunction(args, final)
      return value
    }
    return this.#evalFieldChain(dot, value, v, v.ident.slice(1), args, final)
  }

  #evalFieldChain (dot: unknown, receiver: unknown, node: AnyNode, ident: string[], args: ArgNode[], final: unknown): unknown {
    let r = receiver
    for (let i = 0; i < ident.length - 1; i++) r = this.#evalField(dot, ident[i], node, [], MISSING, r)
    return this.#evalField(dot, ident[ident.length - 1], node, args, final, r)
  }

  // `.Name` on a map is a key lookup (missing → undefined). A function on the prototype of a class
  // instance is a method and is called; an own function-valued property is a value, as a Go func field
  // (use `call`). Unlike Go (nil pointer error), a field of null or of a missing value is missing too:
  // JSON nulls are mostly nil maps and slices, for which Go also prints `<no value>`.
  #evalField (dot: unknown, name: string, node: AnyNode, args: ArgNode[], final: unknown, receiver: unknown): unknown {
    if (receiver === undefined || receiver === null) return undefined
    if (typeof receiver !== 'object' || Array.isArray(receiver)) this.#errorf(`can't evaluate field ${name} in type ${goType(receiver)}`)
    const obj = receiver as Obj
    const own = Object.hasOwn(obj, name)
    const proto = Object.getPrototypeOf(obj) as unknown
    const value = own || (proto !== null && proto !== Object.prototype && name in obj) ? obj[name] : undefined
    if (!own && typeof value === 'function') return this.#evalMethod(dot, (value as (...a: unknown[]) => unknown).bind(obj), node, name, args, final)
    if (args.length > 1 || final !== MISSING) this.#errorf(`${name} is not a method but has arguments`)
    return value
  }

  #evalMethod (dot: unknown, fn: (...a: unknown[]) => unknown, node: AnyNode, name: string, args: ArgNode[], final: unknown): unknown {
    const argv = args.slice(1).map((a) => this.#evalArg(dot, a))
    if (final !== MISSING) argv.push(final)
    try {
      return fn(...argv)
    } catch (e) {
      this.#node = node
      this.#errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  #evalArg (dot: unknown, n: ArgNode): unknown {
    this.#node = n
    switch (n.kind) {
      case 'dot': return dot
      case 'nil': return null
      case 'field': return this.#evalFieldChain(dot, dot, n, n.ident, [n], MISSING)
      case 'variable': return this.#evalVariable(dot, n, [n], MISSING)
      case 'chain': return this.#evalChain(dot, n, [n], MISSING)
      case 'pipe': return this.#evalPipeline(dot, n)
      case 'identifier': return this.#evalFunction(dot, n, n, [n], MISSING)
      case 'bool': return n.value
      case 'number': return n.value
      case 'string': return n.text
    }
  }

  // Literal arguments of typed parameters are checked the way Go's evalArg words it.
  #evalTypedArg (dot: unknown, n: ArgNode, type: ParamType): unknown {
    if ((type === 'string' || type === 'int') && ['bool', 'number', 'string', 'nil'].includes(n.kind)) {
      this.#node = n
      if (type === 'string' && n.kind === 'string') return n.text
      if (type === 'int' && n.kind === 'number' && isInt(n.value)) return Number(n.value)
      if (n.kind === 'nil') this.#errorf(`cannot assign nil to ${type}`)
      this.#errorf(`expected ${type === 'int' ? 'integer' : 'string'}; found ${argString(n)}`)
    }
    return this.#validate(this.#evalArg(dot, n), type)
  }

  #validate (v: unknown, type: ParamType): unknown {
    switch (type) {
      case 'value': return v
      case 'any': return v === undefined ? null : v
      case 'string': if (typeof v === 'string') return v; break
      case 'int': if (isInt(v)) return Number(v); break
      case 'strings': // Go wants []string; any slice is accepted and its elements printed with %v
        if (v === undefined || v === null) return []
        if (Array.isArray(v)) return v.map((e) => typeof e === 'string' ? e : formatV(e))
        break
    }
    const want = type === 'strings' ? '[]string' : type
    if (v === undefined) this.#errorf(`invalid value; expected ${want}`)
    this.#errorf(`wrong type for value; expected ${want}; got ${goType(v)}`)
  }

  #evalFunction (dot: unknown, ident: Extract<ArgNode, { kind: 'identifier' }>, node: AnyNode, args: ArgNode[], final: unknown): unknown {
    this.#node = ident
    const name = ident.name
    const fn = BUILTINS[name]
    const argNodes = args.slice(1)
    const numIn = argNodes.length + (final === MISSING ? 0 : 1)
    const fixed = fn.params.length
    if (fn.variadic !== undefined) {
      if (numIn < fixed) this.#errorf(`wrong number of args for ${name}: want at least ${fixed} got ${argNodes.length}`)
    } else if (numIn !== fixed) {
      this.#errorf(`wrong number of args for ${name}: want ${fixed} got ${numIn}`)
    }
    if (fn.lazy === true) { // and/or stop at the first operand that decides the result
      let v: unknown
      for (const a of argNodes) {
        v = this.#evalArg(dot, a)
        if (isTrue(v) === (name === 'or')) return v
      }
      return final === MISSING ? v : final
    }
    const typeAt = (i: number): ParamType => i < fixed ? fn.params[i] : fn.variadic as ParamType
    const argv = argNodes.map((a, i) => this.#evalTypedArg(dot, a, typeAt(i)))
    if (final !== MISSING) argv.push(this.#validate(final, typeAt(argv.length)))
    try {
      return fn.call(argv)
    } catch (e) {
      if (!(e instanceof FuncError)) throw e
      this.#node = node
      this.#errorf(`error calling ${name}: ${e.message}`)
    }
  }
}

// ---------------------------------------------------------------------------------------------- builtins

// 'value' passes anything through (Go's reflect.Value), 'any' turns missing into nil (interface{}).
type ParamType = 'value' | 'any' | 'string' | 'int' | 'strings'

interface Builtin {
  params: ParamType[]
  variadic?: ParamType
  lazy?: true
  call: (args: unknown[]) => unknown
}

const str = (a: unknown[], i: number): string => a[i] as string
const num = (a: unknown[], i: number): number => a[i] as number

const BUILTINS: Record<string, Builtin> = {
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
const isNil = (v: unknown): boolean => v === undefined || v === null

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

// ---------------------------------------------------------------------------------------------- fmt

// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const isPrint = (c: string): boolean => c === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(c)

// time.Time.String() in UTC: `2024-01-02 03:04:05.5 +0000 UTC`.
function goTime (d: Date, rfc3339 = false): string {
  if (Number.isNaN(d.getTime())) return 'Invalid Date'
  const iso = d.toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = iso.slice(20, 23).replace(/0+$/, '')
  const base = iso.slice(0, 19) + (frac === '' ? '' : '.' + frac)
  return rfc3339 ? base + 'Z' : base.replace('T', ' ') + ' +0000 UTC'
}

// fmt's %v: strings raw, integers as digits, floats like Go (%g, shortest), [a b], map[k:v] with sorted keys.
function formatV (v: unknown): string {
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
function sprint (args: unknown[]): string {
  let out = ''
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' '
    out += formatV(a)
  })
  return out
}

// strconv.Quote (asciiOnly: QuoteToASCII); `quote` may be `'` for rune literals.
function goQuote (s: string, asciiOnly = false, quote = '"'): string {
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

interface Spec { minus: boolean, plus: boolean, sharp: boolean, space: boolean, zero: boolean, width: number | null, prec: number | null }

// Pads to the width in runes; `zero` fills with 0 on the left (strings, as Go does).
function padTo (s: string, spec: Spec, zeroOk = true): string {
  const n = spec.width === null ? 0 : spec.width - [...s].length
  if (n <= 0) return s
  if (spec.minus) return s + ' '.repeat(n)
  return (spec.zero && zeroOk ? '0' : ' ').repeat(n) + s
}

// fmt.Sprintf for the verbs templates use: %v %s %q %d %x %X %o %O %b %c %U %t %e %f %g %T %%, flags + - # 0 space, width, .prec and *.
function sprintf (format: string, args: unknown[]): string {
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

// The exact decimal expansion of a finite x >= 0 (every double has one): x = 0.DIGITS × 10^dp.
function exactDigits (x: number): { digits: string, dp: number } {
  if (x === 0) return { digits: '0', dp: 1 }
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const bits = (hi >>> 20) & 0x7ff
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4))
  if (bits !== 0) mant |= 1n << 52n
  const e = bits === 0 ? -1074 : bits - 1075 // x = mant × 2^e
  const s = e >= 0 ? (mant << BigInt(e)).toString() : (mant * 5n ** BigInt(-e)).toString() // × 10^min(e, 0)
  return { digits: s, dp: s.length + Math.min(e, 0) }
}

// Keeps the first `keep` digits of 0.DIGITS × 10^dp, rounding half to even on the exact value (as Go).
function roundDigits ({ digits, dp }: { digits: string, dp: number }, keep: number): { digits: string, dp: number } {
  if (keep >= digits.length) return { digits, dp }
  if (keep < 0) return { digits: '0', dp: dp - keep + 1 }
  const head = digits.slice(0, keep)
  const drop = digits.slice(keep)
  const odd = head !== '' && Number(head[head.length - 1]) % 2 === 1
  const up = drop[0] > '5' || (drop[0] === '5' && (/[1-9]/.test(drop.slice(1)) || odd))
  const h = (BigInt(head === '' ? '0' : head) + (up ? 1n : 0n)).toString()
  return h === '0' ? { digits: '0', dp: dp - keep + 1 } : { digits: h, dp: dp - keep + h.length }
}

// Significant digits (no trailing zeros) and exponent of x >= 0: shortest round-trip when prec < 0,
// else rounded to prec significant digits.
function decimalDigits (x: number, prec: number): { digits: string, exp: number } {
  if (prec < 0) {
    const [m, e] = x.toExponential().split('e')
    return { digits: m.replace('.', ''), exp: Number(e) }
  }
  const r = roundDigits(exactDigits(x), Math.max(prec, 1))
  return { digits: r.digits.replace(/(?<=.)0+$/, ''), exp: r.dp - 1 }
}

function withExponent (digits: string, exp: number, decimals: number): string {
  const frac = digits.slice(1).padEnd(decimals, '0').slice(0, decimals)
  const e = Math.abs(exp).toString().padStart(2, '0')
  return digits[0] + (decimals > 0 ? '.' + frac : '') + 'e' + (exp < 0 ? '-' : '+') + e
}

function withPoint (digits: string, exp: number, decimals: number): string {
  const dp = exp + 1 // digits are 0.d1d2... × 10^dp
  let int = dp <= 0 ? '0' : digits.slice(0, dp).padEnd(dp, '0')
  int = int.replace(/^0+(?=\d)/, '')
  let frac = ''
  for (let k = 0; k < decimals; k++) frac += dp + k >= 0 && dp + k < digits.length ? digits[dp + k] : '0'
  return decimals > 0 ? `${int}.${frac}` : int
}

// strconv 'g': %e when the exponent is < -4 or >= the precision (6 when shortest), trailing zeros dropped.
function floatG (x: number, prec: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf'
  const sign = x < 0 || Object.is(x, -0) ? '-' : ''
  const ax = Math.abs(x)
  if (ax === 0) return sign + '0'
  const p = prec === 0 ? 1 : prec
  const { digits, exp } = decimalDigits(ax, p)
  let eprec = p < 0 ? 6 : p
  if (p >= 0 && eprec > digits.length && digits.length >= exp + 1) eprec = digits.length
  if (exp < -4 || exp >= eprec) return sign + withExponent(digits, exp, digits.length - 1)
  return sign + withPoint(digits, exp, Math.max(digits.length - exp - 1, 0))
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

// ---------------------------------------------------------------------------------------------- json

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
function marshalJson (v: unknown, seen = new Set<object>()): string | null {
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
