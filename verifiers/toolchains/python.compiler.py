# Arbiter's Python test compiler: a warm interpreter, one per sandbox, outside every run (never in a run's namespaces or
# groups, never forking), that compiles test scripts the way the harness's runner would (`compile_test`: parsed, `==`,
# `!=`, `in` and `not in` rewritten to the strict comparisons, compiled) and answers with the code, marshalled. The
# daemon keeps the answers by script and hands them to each run's runner on its private fd 3, so a runner only loads
# the code (microseconds) instead of compiling it (about 0.8 ms and 150 copied pages in a process just forked), and a
# script used by many responses is compiled once. It runs no test and no program: a script is only compiled.
#
# Started like a fork server: the harness's source on stdin (its UTF-8 length on a line, then the bytes), a Unix
# datagram socket on fd 3 on which it says "ready", then each request is one datagram, the script's name (its file name
# in tracebacks) on a line and the script; each answer is one datagram, the marshalled code or nothing when the script
# does not compile (the runner then compiles it itself, and fails the same way as without this process).
import builtins
import marshal
import posix
import _socket


def _serve():
    data = b""
    while True:
        chunk = posix.read(0, 1 << 20)
        if not chunk:
            break
        data += chunk
    newline = data.index(b"\n")
    source = data[newline + 1:newline + 1 + int(data[:newline])].decode("utf-8")
    namespace = {"__name__": "__arbiter_prelude__", "__file__": "harness.py", "__builtins__": builtins}
    exec(compile(source, "harness.py", "exec"), namespace)
    compile_test = namespace["_arbiter_comparisons"]()[2]
    server = _socket.socket(fileno=3)
    _socket.socket.send(server, b"ready")
    while True:
        try:
            request = _socket.socket.recv(server, 1 << 24)
        except InterruptedError:
            continue
        if not request:
            posix._exit(0)
        name, _, script = request.partition(b"\n")
        try:
            answer = marshal.dumps(compile_test(script.decode("utf-8"), name.decode("utf-8")))
        except BaseException:
            answer = b""
        try:
            _socket.socket.send(server, answer)
        except OSError:
            _socket.socket.send(server, b"")


_serve()
