# docker-py (the `docker` package) against `conex system service`: the exec endpoints as its users call them.
# Run by docker-py.test.ts with DOCKER_HOST set and CONTAINER naming a running busybox container.
import os
import socket
import struct
import time
import unittest

import docker

CONTAINER = os.environ['CONTAINER']


def demux(buf):
    """Splits a stdcopy stream into (stream, bytes) frames."""
    out, off = [], 0
    while off < len(buf):
        stream, length = buf[off], struct.unpack('>I', buf[off + 4:off + 8])[0]
        out.append((stream, buf[off + 8:off + 8 + length]))
        off += 8 + length
    return out


class DockerPyExec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = docker.DockerClient(base_url=os.environ['DOCKER_HOST'], version='auto')
        cls.api = cls.client.api

    def test_ping_and_version(self):
        self.assertTrue(self.client.ping())
        v = self.client.version()
        self.assertEqual(v['ApiVersion'], '1.47')
        self.assertEqual(v['MinAPIVersion'], '1.24')

    def test_container_as_docker_py_sees_it(self):
        c = self.client.containers.get(CONTAINER)
        self.assertEqual(c.status, 'running')
        self.assertEqual(c.name, CONTAINER)
        self.assertIn(CONTAINER, [x.name for x in self.client.containers.list()])

    def test_containers_run_returns_output_and_raises_on_failure(self):
        self.assertEqual(self.client.containers.run('busybox', ['sh', '-c', 'echo run-out'], remove=True), b'run-out\n')
        with self.assertRaises(docker.errors.ContainerError) as ctx:
            self.client.containers.run('busybox', ['sh', '-c', 'echo bad >&2; exit 2'], remove=True)
        self.assertEqual((ctx.exception.exit_status, ctx.exception.stderr), (2, b'bad\n'))

    def test_exec_run_stream(self):
        r = self.client.containers.get(CONTAINER).exec_run(['sh', '-c', 'echo 1; sleep 0.2; echo 2'], stream=True)
        self.assertEqual(b''.join(r.output), b'1\n2\n')

    def test_exec_run_demux_separates_stdout_and_stderr(self):
        r = self.client.containers.get(CONTAINER).exec_run(['sh', '-c', 'printf out; printf err >&2; exit 4'], demux=True)
        self.assertEqual(r.exit_code, 4)
        self.assertEqual(r.output, (b'out', b'err'))

    def test_exec_run_missing_command_is_127(self):
        r = self.client.containers.get(CONTAINER).exec_run(['no-such-command'])
        self.assertEqual(r.exit_code, 127)
        self.assertIn(b'no-such-command', r.output)

    def test_exec_run_env_workdir_user_and_tty(self):
        c = self.client.containers.get(CONTAINER)
        r = c.exec_run(['sh', '-c', 'echo "$A|$(pwd)|$(id -u)"'], environment={'A': 'b c'}, workdir='/tmp', user='1000')
        self.assertEqual((r.exit_code, r.output), (0, b'b c|/tmp|1000\n'))
        r = c.exec_run(['sh', '-c', 'tty >/dev/null && echo "tty $TERM"'], tty=True)
        self.assertEqual((r.exit_code, r.output), (0, b'tty xterm\r\n'))

    def test_exec_start_socket_with_half_close(self):
        e = self.api.exec_create(CONTAINER, ['sh', '-c', 'cat; echo stdin-closed >&2'], stdin=True)
        sock = self.api.exec_start(e['Id'], socket=True)
        raw = sock._sock
        raw.sendall(b'through the hijacked socket\n')
        raw.shutdown(socket.SHUT_WR)
        data = b''
        raw.settimeout(30)
        while True:
            d = raw.recv(65536)
            if not d:
                break
            data += d
        self.assertEqual(demux(data), [(1, b'through the hijacked socket\n'), (2, b'stdin-closed\n')])
        i = self.api.exec_inspect(e['Id'])
        self.assertEqual((i['Running'], i['ExitCode']), (False, 0))

    def test_exec_inspect_while_running_and_after(self):
        e = self.api.exec_create(CONTAINER, ['sleep', '1'])
        i = self.api.exec_inspect(e['Id'])
        self.assertEqual((i['Running'], i['ExitCode'], i['ContainerID'] != ''), (False, None, True))
        # user is omitempty in Docker's ExecProcessConfig: absent when none was asked for, as dockerd shows it
        self.assertEqual(i['ProcessConfig'], {'tty': False, 'entrypoint': 'sleep', 'arguments': ['1'], 'privileged': False})
        self.assertEqual(i['DetachKeys'], 'EBE=')
        self.assertEqual(self.api.exec_start(e['Id'], detach=True), '')
        i = self.api.exec_inspect(e['Id'])
        self.assertEqual((i['Running'], i['ExitCode']), (True, None))
        self.assertGreater(i['Pid'], 0)
        for _ in range(100):
            i = self.api.exec_inspect(e['Id'])
            if not i['Running']:
                break
            time.sleep(0.1)
        self.assertEqual((i['Running'], i['ExitCode']), (False, 0))

    def test_exec_resize_and_errors(self):
        e = self.api.exec_create(CONTAINER, ['sleep', '2'], tty=True)
        self.api.exec_start(e['Id'], detach=True, tty=True)
        self.api.exec_resize(e['Id'], height=40, width=120)
        with self.assertRaises(docker.errors.NotFound):
            self.api.exec_inspect('0' * 64)
        with self.assertRaises(docker.errors.APIError) as ctx:
            self.api.exec_start(e['Id'], detach=True)
        self.assertEqual(ctx.exception.response.status_code, 409)

    def test_events_carry_exec_die(self):
        since = time.time()
        self.client.containers.get(CONTAINER).exec_run(['sh', '-c', 'exit 9'])
        events = list(self.client.events(since=since, until=time.time() + 1, decode=True, filters={'event': 'exec_die'}))
        self.assertTrue(events, 'no exec_die event')
        ev = events[-1]
        self.assertEqual((ev['Type'], ev['Action'], ev['Actor']['Attributes']['exitCode']), ('container', 'exec_die', '9'))
        self.assertEqual(ev['Actor']['Attributes']['name'], CONTAINER)


if __name__ == '__main__':
    unittest.main(verbosity=2)
