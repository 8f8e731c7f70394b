import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { compileTemplate, renderTemplate, TemplateError } from './go-template'

const ctr = {
  ID: 'abc123',
  Name: 'web',
  Names: ['web', 'db'],
  State: { Running: true, Pid: 42, Status: 'running' },
  Labels: { app: 'web', 'a.b': 'x' },
  ExecIDs: ['e1', 'e2', 'e3'],
  Size: 1024,
  Ratio: 0.5,
  Big: 12345678901234567890n,
  Health: null,
  Empty: [],
  Greet: (who: string) => `hi ${who}`,
}

// Renders against the container fixture unless data is given.
const r = (src: string, data: unknown = ctr): string => renderTemplate(src, data)

// The message a template fails with (asserting that it does fail with a TemplateError).
function failure (src: string, data: unknown = ctr): string {
  try {
    renderTemplate(src, data)
  } catch (err) {
    assert.ok(err instanceof TemplateError, `not a TemplateError: ${String(err)}`)
    return err.message
  }
  assert.fail(`expected ${JSON.stringify(src)} to fail`)
}

describe('text and fields', () => {
  it('passes plain text through and prints fields', () => {
    assert.equal(r('hello {{.ID}}!'), 'hello abc123!')
    assert.equal(r('{{ .Name }}'), 'web')
    assert.equal(r('{{.State.Running}}'), 'true')
    assert.equal(r('{{.State.Pid}}'), '42')
  })

  it('prints <no value> for a missing key and <nil> for null', () => {
    assert.equal(r('{{.Nope}}'), '<no value>')
    assert.equal(r('{{.Nope.Deeper}}'), '<no value>')
    assert.equal(r('{{.Health}}'), '<nil>')
    assert.equal(r('{{.Health.Status}}'), '<no value>')
    assert.equal(renderTemplate('{{.}}', undefined), '<no value>')
  })

  it('prints values the way fmt %v does', () => {
    assert.equal(r('{{.Names}}'), '[web db]')
    assert.equal(r('{{.Labels}}'), 'map[a.b:x app:web]')
    assert.equal(r('{{.State}}'), 'map[Pid:42 Running:true Status:running]')
    assert.equal(r('{{.Ratio}}'), '0.5')
    assert.equal(r('{{.Big}}'), '12345678901234567890')
    assert.equal(r('{{.Empty}}'), '[]')
    assert.equal(r('{{.}}', { a: [1, { b: null }], c: 'x y' }), 'map[a:[1 map[b:<nil>]] c:x y]')
    assert.equal(r('{{.}}', 1234567.5), '1.2345675e+06')
    assert.equal(r('{{.}}', 0.00001), '1e-05')
    assert.equal(r('{{.}}', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 500))), '2024-01-02 03:04:05.5 +0000 UTC')
  })

  it('calls methods of class instances; a function-valued property is a value', () => {
    class Ctr {
      readonly Name = 'web'
      Greet (who: string): string { return `hi ${who} from ${this.Name}` }
      get Upper (): string { return this.Name.toUpperCase() }
    }
    assert.equal(r('{{.Greet "bob"}} {{"ann" | .Greet}} {{.Upper}}', new Ctr()), 'hi bob from web hi ann from web WEB')
    assert.equal(r('{{call .Greet "cy"}}'), 'hi cy')
    assert.equal(failure('{{.Greet}}'), 'template: output:1:2: executing "output" at <{{.Greet}}>: can\'t print {{.Greet}} of type func')
  })

  it('reuses a compiled template for many values', () => {
    const t = compileTemplate('{{.ID}}:{{len .Names}}')
    assert.equal(t({ ID: 'a', Names: [] }), 'a:0')
    assert.equal(t({ ID: 'b', Names: ['x'] }), 'b:1')
  })
})

describe('literals, comments and trim markers', () => {
  it('parses strings, raw strings, numbers, chars, booleans', () => {
    assert.equal(r('{{"a\\tb\\u00e9\\x41\\101"}}'), 'a\tbéAA')
    assert.equal(r('{{`a\\tb`}}'), 'a\\tb')
    assert.equal(r('{{42}} {{-1.5}} {{0x1F}} {{0o17}} {{0b101}} {{017}} {{1_000}} {{1e3}}'), '42 -1.5 31 15 5 15 1000 1000')
    assert.equal(r("{{'a'}} {{'\\n'}}"), '97 10')
    assert.equal(r('{{true}} {{false}}'), 'true false')
    assert.equal(r('{{print nil}}'), '<nil>')
  })

  it('drops comments', () => {
    assert.equal(r('a{{/* a comment\nover lines */}}b'), 'ab')
  })

  it('trims the spaces next to {{- and -}}', () => {
    assert.equal(r('a  {{- .ID -}}  b'), 'aabc123b')
    assert.equal(r('x\n  {{- .ID }}\n'), 'xabc123\n')
    assert.equal(r('{{range .Names -}}\n  {{.}}\n{{- end}}'), 'webdb')
    assert.equal(r('a {{- /* gone */ -}} b'), 'ab')
    assert.equal(r('{{-3}}'), '-3') // no space after the dash: a number, not a trim marker
  })
})

describe('variables and pipelines', () => {
  it('declares and assigns variables', () => {
    assert.equal(r('{{$x := .ID}}{{$x}}'), 'abc123')
    assert.equal(r('{{$x := 1}}{{$x = 2}}{{$x}}'), '2')
    assert.equal(r('{{$s := .State}}{{$s.Status}}'), 'running')
    assert.equal(r('{{range .Names}}{{$.ID}}/{{.}} {{end}}'), 'abc123/web abc123/db ')
  })

  it('passes each result as the last argument of the next command', () => {
    assert.equal(r('{{.ID | printf "%s!"}}'), 'abc123!')
    assert.equal(r('{{.ID | upper | printf "%q"}}'), '"ABC123"')
    assert.equal(r('{{(index .Names 1) | len}}'), '2')
    assert.equal(r('{{(.State).Status}}'), 'running')
  })
})

describe('control structures', () => {
  it('if / else if / else', () => {
    const t = '{{if .Health}}h{{else if .State.Running}}r{{else}}n{{end}}'
    assert.equal(r(t), 'r')
    assert.equal(r(t, { Health: 1 }), 'h')
    assert.equal(r(t, {}), 'n')
    assert.equal(r('{{if not .Empty}}empty{{end}}'), 'empty')
    assert.equal(r('{{if and .ID .Names}}yes{{end}}'), 'yes')
    assert.equal(r('{{if .Labels}}labels{{end}}{{if .Nope}}x{{end}}'), 'labels')
  })

  it('range over arrays, with index and element variables', () => {
    assert.equal(r('{{range .Names}}{{.}},{{end}}'), 'web,db,')
    assert.equal(r('{{range $i, $e := .Names}}{{$i}}={{$e}} {{end}}'), '0=web 1=db ')
    assert.equal(r('{{range $e := .Names}}{{$e}}{{end}}'), 'webdb')
  })

  it('range over objects in sorted key order', () => {
    assert.equal(r('{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}'), 'a.b=x;app=web;')
    assert.equal(r('{{range .Labels}}{{.}} {{end}}'), 'x web ')
  })

  it('range else, break, continue, and integers', () => {
    assert.equal(r('{{range .Empty}}x{{else}}none{{end}}'), 'none')
    assert.equal(r('{{range .Nope}}x{{else}}none{{end}}'), 'none')
    assert.equal(r('{{range .ExecIDs}}{{if eq . "e2"}}{{continue}}{{end}}{{.}}{{end}}'), 'e1e3')
    assert.equal(r('{{range .ExecIDs}}{{if eq . "e2"}}{{break}}{{end}}{{.}}{{end}}'), 'e1')
    assert.equal(r('{{range 3}}{{.}}{{end}}'), '012')
  })

  it('with sets dot, and has else / else with', () => {
    assert.equal(r('{{with .State}}{{.Status}}{{end}}'), 'running')
    assert.equal(r('{{with .Health}}x{{else}}none{{end}}'), 'none')
    assert.equal(r('{{with $x := .State}}{{$x.Pid}}{{end}}'), '42')
    assert.equal(r('{{with .Health}}h{{else with .Name}}{{.}}{{end}}'), 'web')
  })
})

describe('functions', () => {
  it('len and index', () => {
    assert.equal(r('{{len .ExecIDs}}'), '3')
    assert.equal(r('{{len .Labels}} {{len "héllo"}}'), '2 6') // Go's len counts bytes
    assert.equal(r('{{index .Labels "a.b"}}'), 'x')
    assert.equal(r('{{index .Labels "missing"}}'), '') // zero value of a map of strings
    assert.equal(r('{{index .Names 1}}'), 'db')
    assert.equal(r('{{index . "a" 1}}', { a: [1, [2, 3]] }), '[2 3]')
    assert.equal(r('{{index .Labels "x"}}|{{.Labels.x}}|{{len .Labels}}|{{json .Labels}}', { Labels: null }), '|<no value>|0|null') // a nil map, as podman prints it
    assert.equal(failure('{{len .Nope}}'), 'template: output:1:2: executing "output" at <len .Nope>: error calling len: len of untyped nil')
  })

  it('printf', () => {
    assert.equal(r('{{printf "%-5s|" .Name}}'), 'web  |')
    assert.equal(r('{{printf "%5s|%.2s" "ab" "hello"}}'), '   ab|he')
    assert.equal(r('{{printf "%d|%5d|%-5d|%05d|%+d" 42 42 42 -42 5}}'), '42|   42|42   |-0042|+5')
    assert.equal(r('{{printf "%x %X %o %b %#x %c %U" 255 255 8 5 255 65 65}}'), 'ff FF 10 101 0xff A U+0041')
    assert.equal(r('{{printf "%q %v %t %%" "a\\"b" .Names true}}'), '"a\\"b" [web db] true %')
    assert.equal(r('{{printf "%.2f|%6.2f|%e|%g|%g" 3.14159 3.14159 1234.5 0.00001 100000}}'), '3.14|  3.14|1.234500e+03|1e-05|100000')
    assert.equal(r('{{printf "%x %T %T" "hi" .Names 1}}'), '6869 []interface {} int')
    assert.equal(r('{{printf "%s" 5}}'), '%!s(int=5)')
    assert.equal(r('{{printf "%s %s" "a"}}'), 'a %!s(MISSING)')
    assert.equal(r('{{printf "%s" "a" "b"}}'), 'a%!(EXTRA string=b)')
    assert.equal(r('{{printf "%d" .Nope}}'), '%!d(<nil>)')
  })

  it('print and println', () => {
    assert.equal(r('{{print 1 2 "a" "b" 3}}'), '1 2ab3')
    assert.equal(r('{{println "a" 1}}'), 'a 1\n')
  })

  it('json: compact, keys in object order, no HTML escaping (podman/docker)', () => {
    const doc = { b: 1, a: { c: [1, 'x', true, null] }, d: '<&>', e: 'q"\\\n\u2028', f: 0.5, g: undefined }
    assert.equal(r('{{json .}}', doc), '{"b":1,"a":{"c":[1,"x",true,null]},"d":"<&>","e":"q\\"\\\\\\n\\u2028","f":0.5}')
    assert.equal(r('{{json .Names}}'), '["web","db"]')
    assert.equal(r('{{json .Nope}} {{json .Big}}'), 'null 12345678901234567890')
    assert.equal(r('{{json .}}', new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '"2024-01-02T03:04:05Z"')
    assert.equal(r('{{json .}}', Number.NaN), '') // Go's encoder fails; podman prints nothing
  })

  it('string functions', () => {
    assert.equal(r('{{upper "abc"}} {{lower "ABC"}} {{title "hello wide-world"}}'), 'ABC abc Hello Wide-World')
    assert.equal(r('{{join .Names ", "}}'), 'web, db')
    assert.equal(r('{{split "a,b,c" ","}} {{len (split "a,b" ",")}}'), '[a b c] 2')
    assert.equal(r('{{truncate "abcdef" 3}} {{truncate "ab" 3}}'), 'abc ab')
    assert.equal(r('{{contains "hello" "ell"}} {{contains "hello" "x"}}'), 'true false')
    assert.equal(r('{{replace "aaa" "a" "b" -1}} {{replace "aaa" "a" "b" 2}}'), 'bbb bba')
    assert.equal(r('[{{trim "  x  "}}] [{{pad "x" 1 2}}] [{{pad "" 1 2}}]'), '[x] [ x  ] []')
    assert.equal(r('{{slice "hello" 1 3}} {{slice .Names 1}}'), 'el [db]')
    assert.equal(r('{{html "<a href=\'x\'>&</a>"}}'), '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;')
    assert.equal(r('{{urlquery "a b&c/é"}}'), 'a+b%26c%2F%C3%A9')
    assert.equal(r('{{js "it\'s <b>"}}'), 'it\\\'s \\u003Cb\\u003E')
  })

  it('logic and comparisons', () => {
    assert.equal(r('{{or .Health "none"}} {{and 1 0 2}} {{and 1 2}} {{not 0}}'), 'none 0 2 true')
    assert.equal(r('{{eq .State.Status "running"}} {{eq .State.Pid 1 2 42}} {{ne 1 2}}'), 'true true true')
    assert.equal(r('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1 1.5}}'), 'true true true false true')
    assert.equal(r('{{eq .Nope "x"}} {{eq .Health nil}}'), 'false true')
  })

})

describe('errors', () => {
  it('reports parse errors with the line, as podman shows them', () => {
    assert.equal(failure('{{foo}}'), 'template: output:1: function "foo" not defined')
    assert.equal(failure('{{.ID}}\n{{bar .ID}}'), 'template: output:2: function "bar" not defined')
    assert.equal(failure('{{.ID'), 'template: output:1: unclosed action')
    assert.equal(failure('{{if .ID}}x'), 'template: output:1: unexpected EOF')
    assert.equal(failure('{{end}}'), 'template: output:1: unexpected {{end}}')
    assert.equal(failure('{{else}}'), 'template: output:1: unexpected {{else}}')
    assert.equal(failure('{{}}'), 'template: output:1: missing value for command')
    assert.equal(failure('{{if}}{{end}}'), 'template: output:1: missing value for if')
    assert.equal(failure('{{$x}}'), 'template: output:1: undefined variable "$x"')
    assert.equal(failure('{{"abc}}'), 'template: output:1: unterminated quoted string')
    assert.equal(failure('{{.ID !}}'), 'template: output:1: unexpected "!" in operand')
    assert.equal(failure('{{/* x }}'), 'template: output:1: unclosed comment')
    assert.equal(failure('{{break}}'), 'template: output:1: {{break}} outside {{range}}')
    assert.equal(failure('{{(.ID}}'), 'template: output:1: unclosed left paren')
    assert.equal(failure('{{.ID | "x"}}'), 'template: output:1: non executable command in pipeline stage 2')
    assert.equal(failure('{{3x}}'), 'template: output:1: bad number syntax: "3x"')
    assert.equal(failure('{{template "x"}}'), 'template: output:1: {{template}} is not supported')
    assert.equal(failure('{{range .Names}}{{$i := 1}}{{end}}{{$i}}'), 'template: output:1: undefined variable "$i"')
  })

  it('reports execution errors with line:column and the failing node', () => {
    assert.equal(failure('{{.ID.Foo}}'), 'template: output:1:5: executing "output" at <.ID.Foo>: can\'t evaluate field Foo in type string')
    assert.equal(failure('{{len 3}}'), 'template: output:1:2: executing "output" at <len 3>: error calling len: len of type int')
    assert.equal(failure('{{index .Names 5}}'), 'template: output:1:2: executing "output" at <index .Names 5>: error calling index: index out of range: 5')
    assert.equal(failure('{{printf}}'), 'template: output:1:2: executing "output" at <printf>: wrong number of args for printf: want at least 1 got 0')
    assert.equal(failure('{{upper 1}}'), 'template: output:1:8: executing "output" at <1>: expected string; found 1')
    assert.equal(failure('{{join .ID ","}}'), 'template: output:1:7: executing "output" at <.ID>: wrong type for value; expected []string; got string')
    assert.equal(failure('{{nil}}'), 'template: output:1:2: executing "output" at <nil>: nil is not a command')
    assert.equal(failure('{{.ID 1}}'), 'template: output:1:2: executing "output" at <.ID>: ID is not a method but has arguments')
    assert.equal(failure('x\n{{range .ID}}{{end}}'), 'template: output:2:8: executing "output" at <.ID>: range can\'t iterate over abc123')
    assert.equal(failure('{{eq 1 "a"}}'), 'template: output:1:2: executing "output" at <eq 1 "a">: error calling eq: incompatible types for comparison: int and string')
    assert.equal(failure('{{$x = 1}}'), 'template: output:1:7: executing "output" at <1>: undefined variable: $x')
  })

  it('keeps messages on one line', () => {
    assert.equal(failure('{{range .ID}}a\nb{{end}}'), 'template: output:1:8: executing "output" at <.ID>: range can\'t iterate over abc123')
    assert.ok(!failure('{{range .}}{{end}}', 'a\nb').includes('\n'))
  })
})
