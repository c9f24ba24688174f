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
                before = namespace.get("check")
                run_code(compile_code(test, "test_%d" % index, "exec"), namespace)
                check = namespace.get("check")
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
