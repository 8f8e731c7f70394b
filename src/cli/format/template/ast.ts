// The parse tree of a template and its source-like printing (Go's text/template/parse nodes).

// An operand of a command: a field, variable, literal, function name, or parenthesized pipeline.
export type ArgNode =
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

// One pipeline stage: a function, method or value with its arguments.
export interface CommandNode { kind: 'command', pos: number, args: ArgNode[] }
// A pipeline with its optional `$x :=` / `$x =` declarations.
export interface PipeNode { kind: 'pipe', pos: number, isAssign: boolean, decl: string[], cmds: CommandNode[] }
// {{if}}, {{with}} and {{range}} with their bodies.
export interface ControlNode { kind: 'if' | 'with' | 'range', pos: number, pipe: PipeNode, list: TNode[], elseList: TNode[] | null }

// A node of a template body.
export type TNode =
  | { kind: 'text', pos: number, text: string }
  | { kind: 'action', pos: number, pipe: PipeNode }
  | ControlNode
  | { kind: 'break' | 'continue', pos: number }

// `{{end}}` and `{{else}}` only ever travel from action() back to the list that owns them.
export type Marker = { kind: 'end', pos: number } | { kind: 'else', pos: number }

// Any node, as an error message may cite it.
export type AnyNode = TNode | ArgNode | CommandNode

// Source-like text of a node, for `executing "output" at <...>` (Go's Node.String()).
export function argString (n: ArgNode): string {
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

// Source-like text of any node, as Go prints it after `at <...>`.
export function nodeString (n: AnyNode): string {
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
