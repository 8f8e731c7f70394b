// The template parser: tokens to a tree, checking variables, functions and block structure as Go's parse does.

import type { ArgNode, CommandNode, ControlNode, Marker, PipeNode, TNode } from './ast'
import { argString } from './ast'
import { BUILTINS } from './builtins'
import { NAME, TemplateError } from './errors'
import { Lexer, tokenString } from './lexer'
import type { Token, TokenType } from './lexer'
import { goQuote, unquote } from './strconv'

const OPERAND_START = new Set<TokenType>(['bool', 'charConstant', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen'])

// Parses a whole template; throws TemplateError with Go's wording on bad syntax.
export class Parser {
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
