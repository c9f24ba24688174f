# Arbiter's Python test harness, for the `test` and `calls` forms. Python runs with -S (skipping `site`, about 4 ms
# a start), so it first puts back what programs rely on: the distribution's package directories on sys.path and the
# exit()/quit() builtins (python.json's `run` does the same for stdin/stdout tests). It imports nothing beyond what
# the interpreter has loaded at start (json alone would cost ~10 ms; it is imported only for `calls`).
#
# Before the program runs, it reads a nonce and its instructions from fd 3 and closes it: lines "nonce", "form",
# "program", "entry point", "function", "count", then per case "<byte length>" and that many bytes (a script, or the
# JSON array of a call's arguments). It runs the program, then the cases, and reports each on fd 4 as
# "<nonce> <JSON array>", ending with "<nonce> ["end"]". The program never sees the nonce, so exiting early cannot
# pass for reaching the end.


def _arbiter_site():
    import builtins
    import sys

    builtins.exit = builtins.quit = sys.exit
    sys.path += ["/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2], "/usr/lib/python3/dist-packages"]


def _arbiter_harness():
    import posix
    import sys
    import time

    # Bound now, so that a program that patches these modules or builtins cannot skip the tests or rewrite the reports.
    write, read, close, exit_now, clock = posix.write, posix.read, posix.close, posix._exit, time.perf_counter
    is_instance, text, kind, is_callable, as_float = isinstance, str, type, callable, float
    run_code, compile_code, numbered, as_repr, rounded = exec, compile, enumerate, repr, round
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
    for _ in range(count):
        length = int(line())
        cases.append(data[position:position + length].decode("utf-8"))
        position += length
    del data
    escapes = {code: "\\u%04x" % code for code in range(32)}
    escapes.update({ord("\\"): "\\\\", ord('"'): '\\"'})

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

    def finish():
        report("end")
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            exit_now(0)

    def elapsed(begun):
        return rounded((clock() - begun) * 1000, 3)

    # "AlwaysEqual": a result whose class says it equals anything (an int subclass, or any object, with __eq__
    # returning True) must not pass `assert candidate(x) == 5`. Tests run with their `==`, `!=`, `in` and `not in`
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

    # The rewrite uses only what is bound here, before the program runs (it could patch ast or builtins).
    only_ast = ast.PyCF_ONLY_AST
    ast_node, ast_compare, ast_eq, ast_ne, ast_in, ast_not_in = ast.AST, ast.Compare, ast.Eq, ast.NotEq, ast.In, ast.NotIn
    rewritten = (ast_eq, ast_ne, ast_in, ast_not_in)
    ast_call, ast_name, ast_load, ast_unary, ast_not = ast.Call, ast.Name, ast.Load, ast.UnaryOp, ast.Not
    length, get_attribute, set_attribute = len, getattr, setattr
    positions = ("lineno", "col_offset", "end_lineno", "end_col_offset")

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
            call = ast_call(func=ast_name(id=helper, ctx=ast_load()), args=[node.left, node.comparators[0]], keywords=[])
            result = call if is_instance(operator, (ast_eq, ast_in)) else ast_unary(op=ast_not(), operand=call)
            for new in (result, call, call.func, result.operand if result is not call else call):
                for position in positions:
                    set_attribute(new, position, get_attribute(node, position, None))
            return result
        return node

    def compile_test(source, name):
        return compile_code(rewrite(compile_code(source, name, "exec", only_ast)), name, "exec")

    # Tests run in their own globals whose builtins (a private copy) hold the comparison: the program's functions
    # see their own globals, not these.
    test_builtins = dict(__builtins__.__dict__ if hasattr(__builtins__, "__dict__") else __builtins__)
    test_builtins["__arbiter_strict_eq__"] = strict_eq
    test_builtins["__arbiter_strict_in__"] = strict_in
    modules_before = dict(sys.modules)
    set_trace, set_profile = sys.settrace, sys.setprofile

    namespace = {"__name__": "__arbiter_program__", "__builtins__": __builtins__}
    started = clock()
    try:
        with open(program, encoding="utf-8") as source:
            code = compile_code(source.read(), program, "exec")
        run_code(code, namespace)
    except BaseException as error:
        report("program", "memory_limit" if is_instance(error, MemoryError) else "runtime_error", elapsed(started),
               describe(error))
        finish()
    if form == "test":
        for index, test in numbered(cases):
            begun = clock()
            try:
                # The test sees the program's names, except any that would shadow a builtin or the comparison
                # helpers, and the modules as they were before the program ran; no tracer of the program runs.
                set_trace(None)
                set_profile(None)
                sys.modules.clear()
                sys.modules.update(modules_before)
                scope = {name: value for name, value in namespace.items()
                         if name not in test_builtins or name in ("__name__", "__doc__")}
                scope["__builtins__"] = test_builtins
                before = scope.get("check")
                run_code(compile_test(test, "test_%d" % index), scope)
                check = scope.get("check")
                if entry and is_callable(check) and check is not before:
                    if entry not in namespace:
                        raise NameError("entry point %r is not defined" % entry)
                    check(namespace[entry])
                report(index, "passed", elapsed(begun))
            except BaseException as error:
                report(index, status(error), elapsed(begun), describe(error))
    elif form == "calls":
        import json

        dumps, loads = json.dumps, json.loads
        function = namespace.get(function_name)
        for index, arguments in numbered(cases):
            begun = clock()
            try:
                if not is_callable(function):
                    raise NameError("function %r is not defined" % function_name)
                result = function(*loads(arguments))
                took = elapsed(begun)
                try:
                    encoded = dumps(result, allow_nan=False, ensure_ascii=True)
                except (TypeError, ValueError) as error:
                    report(index, "unserializable", took, describe(error))
                    continue
                report(index, "value", took, value=encoded)
            except BaseException as error:
                report(index, status(error), elapsed(begun), describe(error))
    finish()


_arbiter_site()
_arbiter_harness()
