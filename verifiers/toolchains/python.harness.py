# Arbiter's Python test harness, for the `test` and `calls` forms. Python runs with -S (skipping `site`, about 4 ms
# a start), so it first puts back what programs rely on: the distribution's package directories on sys.path and the
# exit()/quit() builtins (python.json's `run` does the same for stdin/stdout tests). It imports nothing beyond what
# the interpreter has loaded at start, except _ctypes and _json (C modules, under a millisecond together); json
# itself is imported only for `calls`.
#
# Two processes. This one (the runner) makes itself non-dumpable first, so that no other process of its user can
# read its memory or descriptors (/proc/<pid>/mem, fd, environ; ptrace), then forks the program's process, which
# closes fds 3 and 4 at once: it never holds the nonce nor the report channel, and the program runs only there.
# Then the runner reads its nonce and instructions from fd 3 and closes it: lines "nonce", "form", "program",
# "entry point", "function", "count", then per case "<byte length>" and that many bytes (a script, or the JSON array
# of a call's arguments). It runs the tests itself, in its own globals where each function of the program is a proxy:
# a call sends the arguments as plain data (None, bool, int, float, complex, str, bytes, list, tuple, dict, set,
# frozenset) over a pipe, the program's process calls the function and answers with plain data only, which the runner
# rebuilds from builtin types. No object of the program ever exists here. Each case is reported on fd 4 as
# "<nonce> <JSON array>", ending with "<nonce> ["end"]".


def _arbiter_site():
    import builtins
    import sys

    builtins.exit = builtins.quit = sys.exit
    sys.path += ["/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2], "/usr/lib/python3/dist-packages"]


def _arbiter_hider():
    """A function that makes this process non-dumpable (prctl PR_SET_DUMPABLE 0) and returns whether it is; built once
    (ctypes' classes cost ~0.3 ms), called in each run."""
    try:
        import _ctypes

        class Int(_ctypes._SimpleCData):
            _type_ = "i"

        class Long(_ctypes._SimpleCData):
            _type_ = "L"

        class Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL
            _restype_ = Int

        class Library:
            _handle = _ctypes.dlopen(None, 2)

        prctl = Function(("prctl", Library()))
        arguments = [Long(value) for value in (4, 0, 3)]
        zero = Long(0)
    except Exception:
        return lambda: False

    def hide():
        try:
            prctl(arguments[0], zero, zero, zero, zero)  # PR_SET_DUMPABLE, 0
            return prctl(arguments[2], zero, zero, zero, zero) == 0  # PR_GET_DUMPABLE
        except Exception:
            return False

    return hide


def _arbiter_codec():
    """Plain data to and from text, for both processes: JSON where a JSON object is always a tagged value ("t"
    tuple, "d" dict as a flat key-value list, "s" set, "f" frozenset, "c" complex, "b" bytes as latin-1, "x" an int
    too long for decimal). Only builtin types are ever built from text; a value of a subclass of a plain type is
    read through that type (int.__int__, list.__iter__, dict.items, ...), so its own methods never run; anything
    else raises TypeError."""
    import sys

    kind, text, is_instance, length, identity = type, str, isinstance, len, id
    none_type = kind(None)
    scalars = {none_type, bool, int, float, str}
    plain = (bool, int, float, str, none_type, complex, bytes, list, tuple, dict, set, frozenset)
    mro_of = kind.__dict__["__mro__"].__get__
    as_int, as_float, as_str, as_complex = int.__int__, float.__float__, str.__str__, complex.__complex__
    as_bytes, list_items, tuple_items = bytes.__bytes__, list.__iter__, tuple.__iter__
    dict_items, set_items, frozenset_items = dict.items, set.__iter__, frozenset.__iter__

    def tree(value, active):
        cls = kind(value)
        if cls in scalars:
            if cls is int and (value > 1 << 12000 or value < -(1 << 12000)):
                return {"x": hex(value)}
            return value
        base = cls if cls in plain else None
        if base is None:
            for candidate in mro_of(cls):
                if candidate in plain:
                    base = candidate
                    break
            else:
                raise TypeError("a %s is not plain data" % getattr(cls, "__name__", "value"))
            if base in scalars:
                return tree({int: as_int, float: as_float, str: as_str, bool: bool}[base](value), active)
        if base is complex:
            number = as_complex(value)
            return {"c": [number.real, number.imag]}
        if base is bytes:
            return {"b": as_bytes(value).decode("latin-1")}
        key = identity(value)
        if key in active:
            raise TypeError("a %s holding itself is not plain data" % base.__name__)
        active.add(key)
        try:
            if base is list:
                return [item if kind(item) in scalars and kind(item) is not int else tree(item, active)
                        for item in list_items(value)]
            if base is tuple:
                return {"t": [tree(item, active) for item in tuple_items(value)]}
            if base is dict:
                flat = []
                for item_key, item in dict_items(value):
                    flat.append(tree(item_key, active))
                    flat.append(tree(item, active))
                return {"d": flat}
            return {"s" if base is set else "f": [tree(item, active) for item in
                                                  (set_items if base is set else frozenset_items)(value)]}
        finally:
            active.discard(key)

    def untag(pairs):
        if length(pairs) != 1:
            raise ValueError("not plain data")
        tag, payload = pairs[0]
        if kind(payload) is list:
            if tag == "t":
                return tuple(payload)
            if tag == "d" and length(payload) % 2 == 0:
                return dict(zip(payload[0::2], payload[1::2]))
            if tag == "s":
                return set(payload)
            if tag == "f":
                return frozenset(payload)
            if tag == "c" and length(payload) == 2 and all(kind(part) in (int, float) for part in payload):
                return complex(payload[0], payload[1])
        elif kind(payload) is str:
            if tag == "b":
                return payload.encode("latin-1")
            if tag == "x":
                return int(payload, 16)
        raise ValueError("not plain data")

    def refuse(value):
        raise TypeError("not plain data")

    try:
        import _json

        class Tagged:
            strict, object_hook, object_pairs_hook = True, None, staticmethod(untag)
            parse_float, parse_int, parse_constant = float, int, float

        class Untagged(Tagged):
            object_pairs_hook = None

        tagged_scanner, json_scanner = _json.make_scanner(Tagged()), _json.make_scanner(Untagged())
        encoder = _json.make_encoder(None, refuse, _json.encode_basestring_ascii, None, ":", ",", False, False, True)

        def scan(scanner, source):
            value, end = scanner(source, 0)
            if end != length(source):
                raise ValueError("not plain data")
            return value

        def dumps(value):
            return "".join(encoder(value, 0))

        def loads(source):
            return scan(tagged_scanner, source)

        def loads_json(source):
            return scan(json_scanner, source)
    except ImportError:
        import json

        def dumps(value):
            return json.dumps(value, ensure_ascii=True, allow_nan=True, separators=(",", ":"), default=refuse)

        def loads(source):
            return json.loads(source, object_pairs_hook=untag, parse_constant=float)

        def loads_json(source):
            return json.loads(source, parse_constant=float)

    def encode(value):
        """The text of a value (TypeError when it is not plain data)."""
        return dumps(tree(value, set()))

    del sys
    return tree, dumps, encode, loads, loads_json


def _arbiter_channel(incoming, outgoing, read, write):
    """Messages on a pair of pipes: "<byte length>\\n<ASCII text>". Returns send(text) and receive() (the text, or
    None at the end of the stream or on a malformed frame)."""
    buffer = bytearray()

    def send(message):
        payload = b"%d\n" % len(message) + message.encode("ascii")
        while payload:
            payload = payload[write(outgoing, payload):]

    def fill():
        chunk = read(incoming, 1 << 16)
        if not chunk:
            return False
        buffer.extend(chunk)
        return True

    def receive():
        while b"\n" not in buffer[:24]:
            if len(buffer) >= 24 or not fill():
                return None
        end = buffer.index(b"\n")
        header = bytes(buffer[:end])
        if not header.isdigit():
            return None
        size = int(header)
        del buffer[:end + 1]
        while len(buffer) < size:
            if not fill():
                return None
        message = bytes(buffer[:size])
        del buffer[:size]
        try:
            return message.decode("ascii")
        except UnicodeDecodeError:
            return None

    return send, receive


def _arbiter_program_process(requests, replies, tree, dumps, encode, loads, loads_json):
    """The program's process: runs the program when told to, then answers calls with plain data until "bye". It never
    returns. Nothing here is trusted: the runner believes only the plain data it receives."""
    import builtins
    import posix
    import sys

    read, write, exit_now, kind, text, is_instance, is_callable = (
        posix.read, posix.write, posix._exit, type, str, isinstance, callable)
    send, receive = _arbiter_channel(requests, replies, read, write)
    builtin_names = builtins.__dict__
    mutable = (list, dict, set)

    def described(error):
        try:
            message = text(error)[:10000]
        except BaseException:
            message = ""
        base = "Exception"
        for cls in kind(error).__mro__:
            if builtin_names.get(cls.__name__) is cls:
                base = cls.__name__
                break
        return ["raise", base, kind(error).__name__, message]

    def describe(name, value):
        if is_instance(value, kind(sys)):
            return [name, "module", text(value.__name__)]
        if is_instance(value, type):
            return [name, "class", value.__name__]
        if is_callable(value):
            return [name, "function", ""]
        try:
            return [name, "data", tree(value, set())]
        except (TypeError, ValueError, RecursionError):
            return [name, "other", kind(value).__name__]

    def flush():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass

    try:
        request = loads(receive() or "[]")
        if not request or request[0] != "load":
            exit_now(1)
        namespace = {"__name__": "__arbiter_program__", "__builtins__": builtins}
        try:
            with open(request[1], encoding="utf-8") as source:
                code = compile(source.read(), request[1], "exec")
            exec(code, namespace)
            reply = ["loaded"]
            if len(request) > 2 and request[2]:
                # The reference's helpers replace whatever the program defined under their names.
                try:
                    exec(compile(request[2], "setup", "exec"), namespace)
                except BaseException as error:
                    reply = ["failed", "runtime_error",
                             ("the reference's setup failed: " + kind(error).__name__ + ": " + text(error))[:500]]
        except BaseException as error:
            reply = ["failed", "memory_limit" if is_instance(error, MemoryError) else "runtime_error",
                     (kind(error).__name__ + ": " + text(error))[:500]]
        flush()
        send(encode(reply))
        while True:
            message = receive()
            if message is None:
                exit_now(0)
            request = loads(message)
            if request[0] == "bye":
                flush()
                send(encode(["bye"]))
                exit_now(0)
            if request[0] == "names":
                send(dumps(["names", [describe(name, namespace[name]) for name in request[1] if name in namespace]]))
                continue
            # ["call", name, args, flat keyword pairs, whether to send back changed arguments] or
            # ["calljson", name, JSON array of arguments]
            synced = request[0] == "call" and request[4]
            try:
                function = namespace[request[1]]
                if request[0] == "call":
                    arguments, flat = request[2], request[3]
                    keywords = {flat[index]: flat[index + 1] for index in range(0, len(flat), 2)}
                else:
                    arguments, keywords = loads_json(request[2]), {}
                result = function(*arguments, **keywords)
            except BaseException as error:
                flush()
                send(encode(described(error)))
                continue
            try:
                alias = -1
                for index, argument in enumerate(arguments if request[0] == "call" else ()):
                    if result is argument:
                        alias = index
                changed = [[index, tree(argument, set())] for index, argument in enumerate(arguments)
                           if synced and kind(argument) in mutable]
                reply = dumps(["value", None if alias >= 0 else tree(result, set()), alias, changed])
            except BaseException as error:
                reply = encode(["bad", "returned %s: %s" % (kind(result).__name__, text(error)[:200])])
            send(reply)
    except BaseException:
        flush()
        exit_now(1)
    exit_now(1)


def _arbiter_comparisons():
    """The comparison that tests run with, and the compilation of a test into it: (strict_eq, strict_in, compile_test,
    referenced). Built once."""
    kind, is_instance, compile_code = type, isinstance, compile

    # "AlwaysEqual": a value of a class that says it equals anything must not pass `assert candidate(x) == 5`.
    # Every value that comes from the program is rebuilt here from builtin types, so no such value can reach a test
    # any more; the comparison below stays as a second guard. Tests run with their `==`, `!=`, `in` and `not in`
    # rewritten to these functions, which read a value of any non-builtin class through the builtin type it derives
    # from, and never let an object without one equal a plain value by its own say-so.
    import _ast as ast  # the C module: `import ast` costs ~14 ms of every run

    plain_types = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)
    mro_of, int_of, float_of, complex_of = kind.__dict__["__mro__"].__get__, int.__int__, float.__float__, complex.__complex__
    plain_form = {
        int: int_of, float: float_of, complex: complex_of, str: str.__str__, bytes: lambda value: bytes.__bytes__(value)
        if hasattr(bytes, "__bytes__") else bytes(memoryview(value)), list: lambda value: list(list.__iter__(value)),
        tuple: lambda value: tuple(tuple.__iter__(value)), dict: lambda value: dict(dict.items(value)),
        set: lambda value: set(set.__iter__(value)), frozenset: lambda value: frozenset(frozenset.__iter__(value)),
    }

    def plainly(value):
        """The value as plain builtin data: itself for a builtin type, else read through the builtin type its class
        derives from (None when there is none: such an object never equals a plain value by its own say-so)."""
        cls = kind(value)
        if cls in plain_types:
            return value
        for base in mro_of(cls):
            convert = plain_form.get(base)
            if convert is not None:
                return convert(value)
        return None

    def strict_eq(left, right):
        a, b = plainly(left), plainly(right)
        if a is None or b is None:
            if a is None and b is None:
                return left == right  # two objects of non-builtin types: the test compares such objects
            return False
        if kind(a) in (list, tuple) and kind(b) in (list, tuple):
            return kind(a) is kind(b) and len(a) == len(b) and all(strict_eq(x, y) for x, y in zip(a, b))
        if kind(a) is dict and kind(b) is dict:
            return len(a) == len(b) and all(key in b and strict_eq(a[key], b[key]) for key in a)
        if kind(a) in (set, frozenset) and kind(b) in (set, frozenset):
            plain_a, plain_b = [plainly(x) for x in a], [plainly(y) for y in b]
            if None in plain_a or None in plain_b:
                return False
            return set(plain_a) == set(plain_b)
        return a == b

    def strict_in(item, container):
        plain = plainly(container)
        if kind(plain) in (list, tuple, set, frozenset):
            return any(strict_eq(item, element) for element in plain)
        if kind(plain) is dict:
            return any(strict_eq(item, key) for key in plain)
        plain_item = plainly(item)
        if plain is None or plain_item is None:
            return item in container if plain is None and plain_item is None else False
        return plain_item in plain

    only_ast = ast.PyCF_ONLY_AST
    ast_node, ast_compare, ast_eq, ast_ne, ast_in, ast_not_in = ast.AST, ast.Compare, ast.Eq, ast.NotEq, ast.In, ast.NotIn
    rewritten = (ast_eq, ast_ne, ast_in, ast_not_in)
    ast_call, ast_name, ast_load, ast_unary, ast_not = ast.Call, ast.Name, ast.Load, ast.UnaryOp, ast.Not
    length, get_attribute, set_attribute = len, getattr, setattr
    positions = ("lineno", "col_offset", "end_lineno", "end_col_offset")
    code_type = kind(_arbiter_comparisons.__code__)

    def rewrite(node):
        for field in node._fields:
            value = get_attribute(node, field, None)
            if is_instance(value, list):
                value[:] = [rewrite(item) if is_instance(item, ast_node) else item for item in value]
            elif is_instance(value, ast_node):
                set_attribute(node, field, rewrite(value))
        if is_instance(node, ast_compare) and length(node.ops) == 1 and is_instance(node.ops[0], rewritten):
            operator = node.ops[0]
            helper = "__arbiter_strict_eq__" if is_instance(operator, (ast_eq, ast_ne)) else "__arbiter_strict_in__"
            call_node = ast_call(func=ast_name(id=helper, ctx=ast_load()), args=[node.left, node.comparators[0]],
                                 keywords=[])
            result = call_node if is_instance(operator, (ast_eq, ast_in)) else ast_unary(op=ast_not(), operand=call_node)
            for new in (result, call_node, call_node.func, result.operand if result is not call_node else call_node):
                for position in positions:
                    set_attribute(new, position, get_attribute(node, position, None))
            return result
        return node

    def compile_test(source, name):
        return compile_code(rewrite(compile_code(source, name, "exec", only_ast)), name, "exec")

    def referenced(code, found):
        """Every name a test's code (and the functions it defines) may look up."""
        found.update(code.co_names)
        for constant in code.co_consts:
            if kind(constant) is code_type:
                referenced(constant, found)
        return found

    return strict_eq, strict_in, compile_test, referenced


def _arbiter_kinds():
    """The classes the runner raises and hands to tests, and the builtin exceptions by name: (ProgramGone, Refused,
    Unavailable, builtin_exceptions). Built once."""

    class ProgramGone(BaseException):
        """The program's process ended or broke the protocol; no case runs after this."""

    class Refused(Exception):
        """Something that cannot cross between the processes (not plain data, a class of the program, ...)."""

    class Unavailable:
        """Stands for a name of the program that cannot cross: any use fails the case (through `refused`, which
        records the failure of the run's case)."""

        def __init__(self, message, refused):
            object.__setattr__(self, "_message", message)
            object.__setattr__(self, "_refused", refused)

        def fail(self, *arguments, **keywords):
            raise object.__getattribute__(self, "_refused")(object.__getattribute__(self, "_message"))

        __call__ = __bool__ = __eq__ = __ne__ = __hash__ = __iter__ = __len__ = __getitem__ = __contains__ = fail
        __lt__ = __le__ = __gt__ = __ge__ = __add__ = __sub__ = __mul__ = __setattr__ = __index__ = __int__ = fail

        def __getattr__(self, name):
            return object.__getattribute__(self, "fail")()

    import builtins

    builtin_exceptions = {name: value for name, value in builtins.__dict__.items()
                          if isinstance(value, type) and issubclass(value, BaseException)}
    return ProgramGone, Refused, Unavailable, builtin_exceptions


def _arbiter_prelude():
    """Everything the harness builds that no run changes: a fork server builds it once before its first run (each run
    forks from it), else each run builds it at its start."""
    import builtins
    import sys

    comparisons = _arbiter_comparisons()
    # The builtins of the tests: a copy of the interpreter's, with exit() and quit() as _arbiter_site makes them, and
    # the comparison helpers.
    test_builtins = dict(builtins.__dict__)
    test_builtins["exit"] = test_builtins["quit"] = sys.exit
    test_builtins["__arbiter_strict_eq__"], test_builtins["__arbiter_strict_in__"] = comparisons[:2]
    import marshal

    # JSON string escapes for the reports (a table for str.translate).
    escapes = {code: "\\u%04x" % code for code in range(32)}
    escapes.update({ord("\\"): "\\\\", ord('"'): '\\"'})
    return {"codec": _arbiter_codec(), "hide": _arbiter_hider(), "comparisons": comparisons, "kinds": _arbiter_kinds(),
            "test_builtins": test_builtins, "load_code": marshal.loads, "escapes": escapes}


def _arbiter_harness(prelude):
    import posix
    import sys
    import time
    import _signal

    # Bound now, so that nothing a test does can skip the reports.
    write, read, close, exit_now, clock = posix.write, posix.read, posix.close, posix._exit, time.perf_counter
    is_instance, text, kind, is_callable, as_float = isinstance, str, type, callable, float
    run_code, compile_code, numbered, as_repr, rounded = exec, compile, enumerate, repr, round
    tree, dumps, encode, loads, loads_json = prelude["codec"]

    # Non-dumpable before the program's process exists; that process is forked before the nonce is read and closes
    # fds 3 and 4 before anything of the program runs.
    hidden = prelude["hide"]()
    program_pid = None
    if hidden:
        try:
            requests_out, requests_in = posix.pipe()
            replies_out, replies_in = posix.pipe()
            program_pid = posix.fork()
        except OSError:
            program_pid = None
        if program_pid == 0:
            try:
                close(3)
                close(4)
                close(requests_in)
                close(replies_out)
                _arbiter_program_process(requests_out, replies_in, tree, dumps, encode, loads, loads_json)
            finally:
                exit_now(1)
        if program_pid is not None:
            close(requests_out)
            close(replies_in)
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    posix.chdir("/")

    chunks = []
    while True:
        chunk = read(3, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    close(3)
    data = b"".join(chunks)
    del chunks
    position = 0

    def line():
        nonlocal position
        end = data.index(b"\n", position)
        value = data[position:end].decode("utf-8")
        position = end + 1
        return value

    nonce, form, program, entry, function_name, count = line(), line(), line(), line(), line(), int(line())
    cases = []
    for _ in range(count + 1):
        size = int(line())
        cases.append(data[position:position + size].decode("utf-8"))
        position += size
    # The reference's setup: installed in the program's process after the program, and in each test's scope.
    setup = cases.pop()
    # Optional sections, in this order. "stop" (all_or_nothing, stop_on_failure): the test scripts after the first
    # that fails are not run. With calls, "expect <tolerance> <unwrap single>" and the expected values: the calls stop
    # after the first value that surely differs; only where to stop is decided here, the daemon judges every value it
    # gets. "code <n>" and n items: each test script (then the setup) compiled by the daemon's test compiler, as
    # `compile_test` would here (marshalled; empty when it was not), so that this process need not compile it.
    stop = False
    expected_values, tolerance, unwrap_single = None, 0.0, False
    compiled = None
    while position < len(data):
        header = line().split()
        if header == ["stop"]:
            stop = True
        elif len(header) == 3 and header[0] == "expect":
            tolerance, unwrap_single, expected_values = as_float(header[1]), header[2] == "1", []
            for _ in range(count):
                size = int(line())
                expected_values.append(data[position:position + size].decode("utf-8"))
                position += size
        elif len(header) == 2 and header[0] == "code":
            compiled = []
            for _ in range(int(header[1])):
                size = int(line())
                compiled.append(data[position:position + size])
                position += size
        else:
            break
    del data
    escapes = prelude["escapes"]

    def quote(value):
        return '"' + text(value).translate(escapes) + '"'

    def report(*fields, value=None):
        parts = [quote(field) if is_instance(field, str) else as_repr(as_float(field)) if is_instance(field, float)
                 else text(field) for field in fields]
        if value is not None:
            parts.append(value)
        payload = (nonce + " [" + ", ".join(parts) + "]\n").encode("utf-8", "replace")
        while payload:
            payload = payload[write(4, payload):]

    def describe(error):
        return (kind(error).__name__ + ": " + text(error))[:500]

    def status(error):
        if is_instance(error, AssertionError):
            return "wrong_answer"
        if is_instance(error, MemoryError):
            return "memory_limit"
        return "runtime_error"

    def elapsed(begun):
        return rounded((clock() - begun) * 1000, 3)

    if program_pid is None:
        reason = "the harness cannot keep the program apart from its tests" + (
            "" if hidden else " (prctl PR_SET_DUMPABLE is unavailable)")
        for index in range(count):
            report(index, "runtime_error", 0.0, reason)
        report("end")
        exit_now(0)

    # The program's process: every exchange goes through `exchange`, which records the first failure of the protocol
    # (the process ended, or sent what is not plain data) so that a test cannot swallow it into a pass.
    send, receive = _arbiter_channel(replies_out, requests_in, read, write)

    ProgramGone, Refused, Unavailable, builtin_exceptions = prelude["kinds"]

    def refused(message, verdict="runtime_error"):
        """A Refused error, recorded so that the case fails even when the test catches it."""
        error = Refused(message)
        if state["violation"] is None:
            state["violation"] = (verdict, error)
        return error

    state = {"gone": None, "violation": None}
    wait, kill = posix.waitpid, posix.kill

    def program_ended():
        """The status and message of the program's process, which has ended or must."""
        if state["gone"] is None:
            code = None
            for _ in range(1000):
                pid, code = wait(program_pid, posix.WNOHANG)
                if pid:
                    break
                time.sleep(0.001)
                code = None
            if code is None:
                kill(program_pid, 9)
                code = wait(program_pid, 0)[1]
            if posix.WIFSIGNALED(code):
                signal = posix.WTERMSIG(code)
                state["gone"] = ("time_limit" if signal == 24 else "killed" if signal == 9 else "runtime_error",
                                 "the program's process was killed by signal %d" % signal)
            else:
                state["gone"] = ("runtime_error",
                                 "the program's process exited (code %d)" % posix.WEXITSTATUS(code))
        return state["gone"]

    def exchange(request):
        if state["gone"] is not None:
            raise ProgramGone(state["gone"][1])
        try:
            send(request)
        except OSError:
            raise ProgramGone(program_ended()[1]) from None
        message = receive()
        if message is None:
            raise ProgramGone(program_ended()[1])
        try:
            reply = loads(message)
            if kind(reply) is not list or not reply or kind(reply[0]) is not str:
                raise ValueError("not a reply")
            return reply
        except (ValueError, TypeError, RecursionError, UnicodeError, StopIteration) as error:
            raise refused("the program's process sent what is not plain data (%s)" % describe(error)) from None

    program_exceptions = {}

    def rebuilt_exception(reply):
        """The builtin exception of an error the program raised (by name; a class of its own becomes a subclass of
        the builtin it derives from, so `except ValueError` still catches it)."""
        base, name, message = reply[1:4] if len(reply) >= 4 else ("Exception", "Exception", "")
        cls = builtin_exceptions.get(base) if kind(base) is str else None
        cls = cls if cls is not None and cls not in (SystemExit, KeyboardInterrupt, GeneratorExit) else Exception
        if kind(name) is str and name != cls.__name__:
            cls = program_exceptions.get((cls, name)) or program_exceptions.setdefault(
                (cls, name), kind(name if name.isidentifier() else "ProgramError", (cls,), {"__module__": "program"}))
        try:
            return cls(message if kind(message) is str else "")
        except BaseException:
            return Exception("%s: %s" % (name, message))

    def sync(argument, new):
        """Puts back what a call changed in a list, dict or set argument (the call ran on a copy)."""
        if is_instance(argument, list) and kind(new) is list:
            if list.__ne__(argument, new):
                argument[:] = new
        elif is_instance(argument, (dict, set)) and kind(new) is kind(argument).__mro__[-2] and argument != new:
            argument.clear()
            argument.update(new)

    def call(name, arguments, keywords):
        try:
            flat = []
            for key, value in keywords.items():
                flat.append(key)
                flat.append(value)
            request = encode(["call", name, list(arguments), flat, True])
        except (TypeError, ValueError, RecursionError) as error:
            raise refused("%s(...): an argument cannot be passed to the program: %s" % (name, text(error))) from None
        reply = exchange(request)
        if reply[0] == "value" and len(reply) == 4 and kind(reply[2]) is int and kind(reply[3]) is list:
            for pair in reply[3]:
                if kind(pair) is list and len(pair) == 2 and kind(pair[0]) is int and 0 <= pair[0] < len(arguments):
                    sync(arguments[pair[0]], pair[1])
            if 0 <= reply[2] < len(arguments):
                return arguments[reply[2]]
            return reply[1]
        if reply[0] == "raise":
            raise rebuilt_exception(reply) from None
        message = reply[1] if reply[0] == "bad" and len(reply) > 1 and kind(reply[1]) is str else "a malformed reply"
        raise refused("%s(...) %s" % (name, message), "wrong_answer")

    proxies = {}

    def proxy(name):
        if name not in proxies:
            def function(*arguments, **keywords):
                return call(name, arguments, keywords)

            function.__name__ = function.__qualname__ = name
            proxies[name] = function
        return proxies[name]

    # Modules of the program that a test may use without importing them: the standard library's plain ones,
    # imported here again.
    shared_modules = {"math", "cmath", "string", "re", "random", "collections", "itertools", "functools", "heapq",
                      "bisect", "fractions", "decimal", "statistics", "operator", "datetime", "copy", "json", "typing",
                      "numbers", "array", "hashlib", "unicodedata", "struct", "textwrap"}

    def names(wanted):
        """The program's names among `wanted`: a proxy for each function, a copy of plain data, the module for a
        standard module, and a stand-in that fails the case for anything else."""
        reply = exchange(encode(["names", sorted(wanted)]))
        found = {}
        if reply[0] != "names" or len(reply) != 2 or kind(reply[1]) is not list:
            return found
        for item in reply[1]:
            if kind(item) is not list or len(item) != 3 or kind(item[0]) is not str or item[0] not in wanted:
                continue
            name, category, payload = item
            if category == "function":
                found[name] = proxy(name)
            elif category == "data":
                found[name] = payload
            elif category == "module" and kind(payload) is str and payload.split(".")[0] in shared_modules:
                try:
                    __import__(payload)
                    found[name] = sys.modules[payload]
                except BaseException:
                    found[name] = Unavailable(
                        "module %r of the program cannot be imported by the test" % payload, refused)
            else:
                what = {"class": "a class", "module": "a module"}.get(category, "an object")
                found[name] = Unavailable(
                    "%r is %s of the program: tests run in their own process and reach only the program's functions "
                    "and plain data" % (name, what), refused)
        return found

    def finish():
        if state["gone"] is None:
            try:
                exchange(encode(["bye"]))
            except BaseException:
                pass
        try:
            kill(program_pid, 9)
        except OSError:
            pass
        try:
            wait(program_pid, 0)
        except OSError:
            pass
        report("end")
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            exit_now(0)

    def outcome(index, begun, error=None):
        """Reports a case: a failure of the protocol first, then the test's own error, else passed."""
        if state["gone"] is not None:
            report(index, state["gone"][0], elapsed(begun), state["gone"][1])
        elif state["violation"] is not None:
            report(index, state["violation"][0], elapsed(begun), describe(state["violation"][1]))
        elif error is not None:
            report(index, status(error), elapsed(begun), describe(error))
        else:
            return True
        return False

    def not_run(index):
        report(index, "runtime_error", 0.0, "not run: the program's process ended in an earlier case")

    # The program runs in its own process.
    started = clock()
    try:
        loaded = exchange(encode(["load", program, setup]))
    except BaseException:
        loaded = None
    if state["gone"] is not None or loaded is None or loaded[0] != "loaded":
        if loaded is not None and loaded[0] == "failed" and len(loaded) == 3:
            report("program", "memory_limit" if loaded[1] == "memory_limit" else "runtime_error", elapsed(started),
                   text(loaded[2]))
        else:
            gone = program_ended() if state["gone"] is None else state["gone"]
            report("program", gone[0], elapsed(started), gone[1])
        finish()

    strict_eq, strict_in, compile_test, referenced = prelude["comparisons"]

    # Tests run in their own globals whose builtins (the prelude's copy, private to this process) hold the comparison.
    test_builtins = prelude["test_builtins"]
    # The modules as they were at the start, put back before each later script (copying and restoring them touches
    # every module object, so a single script skips it).
    modules_before = dict(sys.modules) if len(cases) > 1 else None
    set_trace, set_profile = sys.settrace, sys.setprofile

    def test_code(index, source, name):
        """A test's code: compiled by the daemon's test compiler when it sent it, else here."""
        if compiled is not None and index < len(compiled) and compiled[index]:
            return load_code(compiled[index])
        return compile_test(source, name)

    load_code = prelude["load_code"]
    setup_code = test_code(count, setup, "setup") if setup else None
    if form == "test":
        failed = False
        for index, test in numbered(cases):
            begun = clock()
            if state["gone"] is not None:
                not_run(index)
                continue
            if failed and stop:
                break  # the daemon counts the rest as failed, not run
            state["violation"] = None
            try:
                # The test sees the program's names (functions as proxies, plain data as copies), except any that
                # would shadow a builtin or the comparison helpers, and the modules as they were at the start.
                set_trace(None)
                set_profile(None)
                if index > 0:
                    sys.modules.clear()
                    sys.modules.update(modules_before)
                code = test_code(index, test, "test_%d" % index)
                wanted = {name for name in referenced(code, {entry} if entry else set())
                          if name not in test_builtins and not (name.startswith("__") and name.endswith("__"))}
                program_names = names(wanted) if wanted else {}
                scope = dict(program_names)
                scope["__name__"] = "__arbiter_program__"
                scope["__builtins__"] = test_builtins
                if setup_code is not None:
                    # The reference's helpers, run here: the test calls them, never the program's namesakes.
                    run_code(setup_code, scope)
                before = scope.get("check")
                run_code(code, scope)
                check = scope.get("check")
                if entry and is_callable(check) and check is not before:
                    if entry not in program_names:
                        raise NameError("entry point %r is not defined" % entry)
                    check(program_names[entry])
                if outcome(index, begun):
                    report(index, "passed", elapsed(begun))
                else:
                    failed = True
            except BaseException as error:
                outcome(index, begun, error)
                failed = True
    elif form == "calls":
        import json

        dumps = json.dumps

        def maybe_equal(got, want):
            """Whether the daemon could find the value `got` equal to `want` (both parsed JSON). Lenient where the
            daemon is strict (any two numbers within the tolerance, relative or absolute, with some slack), so that a
            value the daemon accepts is never taken for a failure here."""
            if kind(got) is bool or kind(want) is bool or got is None or want is None:
                return got is want
            if kind(got) in (int, float) and kind(want) in (int, float):
                try:
                    a, b = as_float(got), as_float(want)
                except OverflowError:
                    return True
                return abs(a - b) <= (tolerance + 1e-9) * max(1.0, abs(a), abs(b)) or a == b
            if kind(got) is str or kind(want) is str:
                return got == want
            if kind(got) is list and kind(want) is list:
                return len(got) == len(want) and all(maybe_equal(x, y) for x, y in zip(got, want))
            if kind(got) is dict and kind(want) is dict:
                return got.keys() == want.keys() and all(maybe_equal(got[key], want[key]) for key in want)
            return False

        def surely_wrong(index, encoded):
            if expected_values is None:
                return False
            try:
                got, want = loads_json(encoded), loads_json(expected_values[index])
                if maybe_equal(got, want):
                    return False
                return not (unwrap_single and kind(want) is list and len(want) == 1 and maybe_equal(got, want[0]))
            except BaseException:
                return False

        try:
            defined = names({function_name}).get(function_name)
        except BaseException:
            defined = None
        failed = False
        for index, arguments in numbered(cases):
            begun = clock()
            if state["gone"] is not None:
                not_run(index)
                continue
            if failed and stop:
                break  # the daemon counts the rest as failed, not run
            failed = True
            state["violation"] = None
            try:
                if not is_callable(defined) or is_instance(defined, Unavailable):
                    raise NameError("function %r is not defined" % function_name)
                reply = exchange(encode(["calljson", function_name, arguments]))
                if reply[0] == "raise":
                    raise rebuilt_exception(reply)
                if reply[0] != "value" or len(reply) != 4:
                    report(index, "unserializable", elapsed(begun),
                           reply[1] if reply[0] == "bad" and len(reply) > 1 else "a malformed reply")
                    continue
                took = elapsed(begun)
                try:
                    encoded = dumps(reply[1], allow_nan=False, ensure_ascii=True)
                except (TypeError, ValueError) as error:
                    report(index, "unserializable", took, describe(error))
                    continue
                report(index, "value", took, value=encoded)
                failed = surely_wrong(index, encoded)
            except BaseException as error:
                outcome(index, begun, error)
    finish()


# A fork server executes this file under another name (it builds the prelude once, then calls _arbiter_site and
# _arbiter_harness in each run's process).
if __name__ != "__arbiter_prelude__":
    _arbiter_site()
    _arbiter_harness(_arbiter_prelude())
