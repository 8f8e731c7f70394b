// The template executor: walks the tree against data, resolving fields, variables, methods and functions.

import type { AnyNode, ArgNode, CommandNode, ControlNode, PipeNode, TNode } from './ast'
import { argString, nodeString } from './ast'
import { BUILTINS } from './builtins'
import type { ParamType } from './builtins'
import { FuncError, location, NAME, TemplateError } from './errors'
import { formatV, goType, isInt, isMap, isTrue, mapKeys } from './values'
import type { Obj } from './values'

const MISSING = Symbol('missing') // "no value piped in", distinct from a piped-in undefined
const BREAK = Symbol('break')
const CONTINUE = Symbol('continue')

// Executes one parsed template against one data value; throws TemplateError with Go's wording.
export class Executor {
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
