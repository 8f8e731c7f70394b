import { test } from 'node:test'
import assert from 'node:assert/strict'
import { applyChange } from './image-import'
import type { ImageConfig } from '../../store/images'
import { EngineError } from '../../errors'

const BASE: ImageConfig = { Env: ['PATH=/usr/bin:/bin'] }
const apply = (...changes: string[]): ImageConfig => changes.reduce(applyChange, BASE)

function rejects (change: string, message: string): void {
  assert.throws(() => applyChange(BASE, change), (err: unknown) => err instanceof EngineError && err.code === 'INVALID_ARGUMENT' && err.message === message)
}

test('CMD and ENTRYPOINT: the JSON form as given, the shell form through /bin/sh -c', () => {
  assert.deepEqual(apply('CMD ["sh","-c","echo from-import"]'), { ...BASE, Cmd: ['sh', '-c', 'echo from-import'] })
  assert.deepEqual(apply('CMD echo hi there'), { ...BASE, Cmd: ['/bin/sh', '-c', 'echo hi there'] })
  assert.deepEqual(apply('ENTRYPOINT ["/bin/app", "--flag"]'), { ...BASE, Entrypoint: ['/bin/app', '--flag'] })
  assert.deepEqual(apply('entrypoint top -b'), { ...BASE, Entrypoint: ['/bin/sh', '-c', 'top -b'] })
  assert.deepEqual(apply('CMD []'), { ...BASE, Cmd: [] })
})

test('ENV: KEY=VALUE pairs (quotes stripped), the legacy KEY VALUE form, replacing an existing key in place', () => {
  assert.deepEqual(apply('ENV A=1 B="two words" C=x=y'), { Env: ['PATH=/usr/bin:/bin', 'A=1', 'B=two words', 'C=x=y'] })
  assert.deepEqual(apply('ENV GREETING hello world'), { Env: ['PATH=/usr/bin:/bin', 'GREETING=hello world'] })
  assert.deepEqual(apply('ENV PATH=/opt/bin', 'ENV A=1', 'ENV A=2'), { Env: ['PATH=/opt/bin', 'A=2'] })
  assert.deepEqual(applyChange({}, 'ENV A=1'), { Env: ['A=1'] })
})

test('WORKDIR, USER, STOPSIGNAL, LABEL; EXPOSE, VOLUME and ONBUILD are accepted and ignored', () => {
  assert.deepEqual(apply('WORKDIR /srv', 'USER 1000:1000', 'STOPSIGNAL SIGINT'), { ...BASE, WorkingDir: '/srv', User: '1000:1000', StopSignal: 'SIGINT' })
  assert.deepEqual(apply('LABEL a=1 b="x y"', 'LABEL a=2'), { ...BASE, Labels: { a: '2', b: 'x y' } })
  assert.deepEqual(apply('EXPOSE 80/tcp', 'VOLUME /data', 'ONBUILD RUN x'), BASE)
  // Every change returns a new config: the input is never modified.
  const before = structuredClone(BASE)
  apply('ENV Z=1', 'CMD x')
  assert.deepEqual(BASE, before)
})

test('malformed changes are refused with the instruction quoted', () => {
  rejects('CMD', 'invalid change "CMD": expected INSTRUCTION ARGUMENTS')
  rejects('', 'invalid change "": expected INSTRUCTION ARGUMENTS')
  rejects('RUN echo hi', 'invalid change "RUN echo hi": RUN is not one of CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, STOPSIGNAL, EXPOSE, VOLUME')
  rejects('CMD ["sh", 1]', 'invalid change "CMD ["sh", 1]": the JSON form must be an array of strings')
  rejects('CMD [not json', 'invalid change "CMD [not json": the JSON form must be an array of strings')
  rejects('ENV ONLYKEY', 'invalid change "ENV ONLYKEY": expected KEY=VALUE')
})
