# Arbiter's Python test harness, for the `test` and `calls` forms. Python runs with -S (skipping `site`, about 4 ms
# a start), so it first puts back what programs rely on: the distribution's package directories on sys.path and the
# exit()/quit() builtins (python.json's `run` does the same for stdin/stdout tests). Before the program runs, it
# reads a nonce and its instructions from fd 3 and closes it; then it runs the program, then the tests, and reports
# each result on fd 4 as "<nonce> <JSON>", ending with "<nonce> ["end"]". The program never sees the nonce, so
# exiting early cannot pass for reaching the end.


def _arbiter_site():
    import builtins
    import sys

    builtins.exit = builtins.quit = sys.exit
    sys.path += ["/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2], "/usr/lib/python3/dist-packages"]


def _arbiter_harness():
    import json
    import os
    import sys
    import time

    # Bound now, so that a program that patches these modules cannot rewrite the reports.
    write, read, dumps, loads, clock, exit_now = os.write, os.read, json.dumps, json.loads, time.perf_counter, os._exit
    is_instance, text, kind, is_callable = isinstance, str, type, callable
    chunks = []
    while True:
        chunk = read(3, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(3)
    nonce, _, payload = b"".join(chunks).decode("utf-8").partition("\n")
    spec = loads(payload)
    del chunks, payload

    def report(*fields):
        data = (nonce + " " + dumps(list(fields)) + "\n").encode("utf-8")
        while data:
            data = data[write(4, data):]

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

    namespace = {"__name__": "__arbiter_program__", "__builtins__": __builtins__}
    started = clock()
    try:
        with open(spec["program"], encoding="utf-8") as source:
            code = compile(source.read(), spec["program"], "exec")
        exec(code, namespace)
    except BaseException as error:
        report("program", "memory_limit" if is_instance(error, MemoryError) else "runtime_error",
               (clock() - started) * 1000, describe(error))
        finish()
    entry = spec.get("entry_point")
    for index, test in enumerate(spec.get("tests", [])):
        begun = clock()
        try:
            before = namespace.get("check")
            exec(compile(test, "test_%d" % index, "exec"), namespace)
            check = namespace.get("check")
            if entry and is_callable(check) and check is not before:
                if entry not in namespace:
                    raise NameError("entry point %r is not defined" % entry)
                check(namespace[entry])
            report(index, "passed", (clock() - begun) * 1000)
        except BaseException as error:
            report(index, status(error), (clock() - begun) * 1000, describe(error))
    if "calls" in spec:
        function = namespace.get(spec["function"])
        for index, arguments in enumerate(spec["calls"]):
            begun = clock()
            try:
                if not is_callable(function):
                    raise NameError("function %r is not defined" % spec["function"])
                value = function(*arguments)
                elapsed = (clock() - begun) * 1000
                try:
                    value = loads(dumps(value, allow_nan=False))
                except (TypeError, ValueError) as error:
                    report(index, "unserializable", elapsed, describe(error))
                    continue
                report(index, "value", elapsed, value)
            except BaseException as error:
                report(index, status(error), (clock() - begun) * 1000, describe(error))
    finish()


_arbiter_site()
_arbiter_harness()
