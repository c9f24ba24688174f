# Arbiter's Python fork server: a warm interpreter per sandbox slot, so that a run forks instead of starting Python
# (about 8 ms of CPU a start). Started by the daemon as root (only where the sandbox runs as root), born in the slot's
# cgroups, with /dev/null as stdout. It reads on stdin the harness's source (its UTF-8 length on a line, then the
# bytes; or any code to run as `__main__`, such as python.json's `warm_run` for stdin/stdout cases) and the sandbox's
# seccomp filter (its length on a line, then the bytes of `struct sock_filter`s), compiles that code once, imports the modules the harness and most programs need, and waits on fd 3.
#
# For each run, the run's init (already in its fresh PID, mount, network, IPC and UTS namespaces, its root pivoted
# and its work directory a tmpfs of its own) sends one message: a line of numbers (uid, gid, the CPU rlimit in
# seconds, RLIMIT_AS, RLIMIT_FSIZE, RLIMIT_STACK, RLIMIT_NOFILE, RLIMIT_NPROC, 0 for none, and whether to install
# the filter), the work directory on a line, the environment as NUL-terminated entries, and eleven descriptors:
# the run's stdin, stdout, stderr, fds 3 and 4, its mount, PID, network, IPC and UTS namespaces, and a pipe for the
# answer. The server joins the run's namespaces (its PID namespace for its children), forks the run's process there
# and returns to its own namespaces; the run's process is thus in the run's PID namespace (it dies with the run's
# init) and the server's child: the server reaps it and writes its wait status, CPU time and peak memory on the
# answer pipe, where init waits for them. The run's process writes its pid (in the run's namespace) on the answer
# pipe, takes the descriptors as 0-4, closes every other, enters the work directory, sets the limits, drops to the
# run's user (no_new_privs, then the filter), takes the run's environment and runs the harness as `__main__`.
# Nothing of a run ever returns to the server: each run starts from the server's state before the first run.
import os
import sys
import posix
import _socket
import _ctypes
import resource
import builtins
import marshal
import gc

# Imported now, so that no run pays for them: what the harness imports, and what programs import most.
import _ast, _json, json, _signal, time, types  # noqa: F401,E401
import typing, math, re, collections, itertools, functools, heapq, bisect, string, operator  # noqa: F401,E401


def _read_input():
    data = b""
    while True:
        chunk = posix.read(0, 1 << 20)
        if not chunk:
            break
        data += chunk
    posix.close(0)
    posix.open("/dev/null", posix.O_RDONLY)  # fd 0 again, so that the next descriptor opened is not taken as stdin
    parts = []
    position = 0
    for _ in range(2):
        newline = data.index(b"\n", position)
        length = int(data[position:newline])
        parts.append(data[newline + 1:newline + 1 + length])
        position = newline + 1 + length
    return parts[0].decode("utf-8"), parts[1]


def _libc():
    class Int(_ctypes._SimpleCData):
        _type_ = "i"

    class Long(_ctypes._SimpleCData):
        _type_ = "l"

    class Pointer(_ctypes._SimpleCData):
        _type_ = "P"

    flags = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO

    class Function(_ctypes.CFuncPtr):
        _flags_ = flags
        _restype_ = Int

    class LongFunction(_ctypes.CFuncPtr):
        _flags_ = flags
        _restype_ = Long

    class Library:
        _handle = _ctypes.dlopen(None, 2)

    library = Library()
    try:
        malloc_trim = Function(("malloc_trim", library))  # glibc's; a C library without it trims nothing
    except AttributeError:
        malloc_trim = None
    return (Function(("setns", library)), Function(("prctl", library)), LongFunction(("syscall", library)),
            Int, Long, Pointer, malloc_trim)


# Namespaces in the order the server joins a run's (mount last: it changes the root and working directory) and the
# order of their descriptors in a message (mount, PID, network, IPC, UTS).
_JOIN_ORDER = ((7, 0x40000000), (8, 0x08000000), (9, 0x04000000), (6, 0x20000000), (5, 0x00020000))
_OWN = ("net", "ipc", "uts", "pid", "mnt")


def _serve():
    harness_source, filter_bytes = _read_input()
    harness = compile(harness_source, "harness.py", "exec")
    del harness_source
    # A harness that defines `_arbiter_prelude` (python.harness.py) builds what no run changes once, here: each run
    # forks from it and calls `_arbiter_site()` and `_arbiter_harness(prelude)`, instead of executing the whole file.
    prepared = None
    if "_arbiter_prelude" in harness.co_names:
        namespace = {"__name__": "__arbiter_prelude__", "__file__": "harness.py", "__builtins__": builtins}
        exec(harness, namespace)
        prepared = (namespace, namespace["_arbiter_prelude"]())
    setns, prctl, syscall, Int, Long, _, malloc_trim = _libc()
    drop_capabilities = _capability_dropper(syscall, Int, Long)
    # struct sock_fprog { unsigned short len; struct sock_filter *filter; } and the filter, both kept alive here.
    fprog = _make_fprog(bytearray(filter_bytes), len(filter_bytes) // 8)
    # The arguments of the run's three prctl calls, built once (making ctypes objects costs each run pages and time):
    # PR_CAP_AMBIENT with PR_CAP_AMBIENT_CLEAR_ALL, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP with SECCOMP_MODE_FILTER.
    prctl_arguments = tuple(tuple(Long(value) for value in values) for values in (
        (47, 4, 0, 0, 0), (38, 1, 0, 0, 0), (22, 2, _ctypes.addressof(fprog[0]), 0, 0)))
    own = [posix.open("/proc/self/ns/" + name, posix.O_RDONLY | posix.O_CLOEXEC) for name in _OWN]
    oom = posix.open("/proc/self/oom_score_adj", posix.O_WRONLY | posix.O_CLOEXEC)
    try:
        posix.write(oom, b"-1000")  # needs CAP_SYS_RESOURCE, which a container may not give
    except OSError:
        oom = -1
    server = _socket.socket(fileno=3)
    # Everything allocated so far is shared with every run: keep the collector from touching (and so copying) it.
    gc.collect()
    # The C heap's free memory goes back to the kernel (malloc_trim releases the free pages inside the heap too, not
    # only its top): about 2 MB of the ~8 MB of anonymous memory that every run's two forks would otherwise copy
    # page-table entries of, and that each run's process would tear down at its end. A page that a run allocates
    # there later is a fresh zeroed page instead of a copy of the server's.
    if malloc_trim is not None:
        malloc_trim(Long(0))
    gc.freeze()
    _collapse(syscall, Long)
    _socket.socket.send(server, b"ready")  # the daemon waits for it before it hands the server a run
    while True:
        try:
            message, fds, _, _ = _socket.socket.recvmsg(server, 1 << 20, _socket.CMSG_SPACE(11 * 4))
        except InterruptedError:
            continue
        if not message:
            posix._exit(0)
        received = []
        for level, kind, data in fds:
            if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                received += [int.from_bytes(data[i:i + 4], sys.byteorder, signed=True)
                             for i in range(0, len(data) - len(data) % 4, 4)]
        # Eleven descriptors from a run of a root daemon; twelve (its user namespace before the answer pipe) from a
        # run in a user namespace of its own (an ordinary user's daemon).
        joined = len(received) == 12
        everything = received
        if len(received) == 11:
            pid = _fork_into(received, setns, own, oom)
        elif joined:
            pid = _fork_joined(received, setns)
            received = received[:10] + received[11:]
        else:
            pid = -1
        if pid == 0:
            try:
                _run(received, message, harness, prepared, prctl, prctl_arguments, drop_capabilities)
            except BaseException:
                sys.excepthook(*sys.exc_info())  # on the run's stderr once it has it, else the daemon's
            finally:
                posix._exit(127)
        for fd in everything[:-1]:
            posix.close(fd)
        if pid > 0 and joined:
            _reap(pid)  # the child that joined the run reports its process's end itself
        elif pid > 0:
            _wait(pid, received[-1])
        for fd in received[-1:]:
            posix.close(fd)


def _fork_into(fds, setns, own, oom):
    """Joins the run's namespaces (its PID namespace for children only), forks the run's process there, and comes
    back to the server's own namespaces. The run's process is thus in the run's PID namespace (it dies with the run's
    init) and the server's child. The server is never the OOM killer's choice (-1000: it sits in the run's memory
    cgroup) where the kernel lets it lower its score; the run's process is, like any other (0, inherited). Returns
    the pid, 0 in the child, or -1."""
    joined = 0
    pid = -1
    try:
        for index, flag in _JOIN_ORDER:
            if setns(fds[index], flag) != 0:
                break
            joined += 1
        if joined == len(_JOIN_ORDER):
            if oom >= 0:
                posix.write(oom, b"0")
            pid = posix.fork()
            if pid == 0:
                return 0
    except OSError:
        pid = -1
    finally:
        if pid != 0:
            if oom >= 0:
                posix.write(oom, b"-1000")
            for (_, flag), fd in list(zip(_JOIN_ORDER, own))[:joined]:
                if setns(fd, flag) != 0:
                    posix._exit(1)  # not back in its own namespaces: the daemon starts a new server
            posix.chdir("/")
    return pid


def _fork_joined(fds, setns):
    """For a run in a user namespace of its own: a child joins it (as the namespace's owner, the server's user has
    every capability there) and then the run's other namespaces, and forks the run's process there (in the run's PID
    namespace: it dies with the run's init); the child reaps it, writes its end on the answer pipe, and exits. The
    server cannot join itself: nothing leads back out of a user namespace. One fork more than as root, still far from
    an interpreter's start. Returns the child's pid in the server, 0 in the run's process, or -1."""
    try:
        child = posix.fork()
    except OSError:
        return -1
    if child != 0:
        return child
    try:
        if setns(fds[10], 0x10000000) != 0:  # CLONE_NEWUSER
            posix._exit(1)
        for index, flag in _JOIN_ORDER:
            if setns(fds[index], flag) != 0:
                posix._exit(1)
        posix.chdir("/")
        pid = posix.fork()
    except BaseException:
        posix._exit(1)
    if pid == 0:
        return 0
    for fd in fds[:11]:
        posix.close(fd)
    _wait(pid, fds[11])
    posix._exit(0)


def _reap(pid):
    while True:
        try:
            posix.waitpid(pid, 0)
            return
        except InterruptedError:
            continue
        except ChildProcessError:
            return


def _wait(pid, answer):
    """Reaps the run's process and writes its wait status, CPU seconds and peak memory on the answer pipe, where the
    run's init waits for them. When the run was killed, init is gone and nobody reads them."""
    while True:
        try:
            _, status, usage = posix.wait4(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            return
    try:
        posix.write(answer, b"%d %.6f %d\n" % (status, usage.ru_utime + usage.ru_stime, usage.ru_maxrss))
    except OSError:
        pass


def _collapse(syscall, Long):
    """Asks the kernel to back the server's heap and arenas (its private anonymous writable mappings of 2 MB or more)
    with huge pages (madvise MADV_COLLAPSE, Linux 6.1): each fork then copies one page-table entry for 2 MB instead
    of 512, and each run's process ends with fewer to tear down. Where the kernel cannot, nothing changes."""
    number = {"x86_64": 28, "aarch64": 233}.get(posix.uname().machine)  # SYS_madvise
    if number is None:
        return
    try:
        with open("/proc/self/maps", "rb") as maps:
            lines = maps.read().split(b"\n")
    except OSError:
        return
    for line in lines:
        fields = line.split()
        anonymous = len(fields) == 5 or (len(fields) == 6 and fields[5] == b"[heap]")
        if not anonymous or fields[1] != b"rw-p" or fields[4] != b"0":
            continue
        start, end = (int(x, 16) for x in fields[0].split(b"-"))
        # Whole 2 MB blocks only: a range's partial blocks are left as they are.
        first, last = (start + (1 << 21) - 1) & ~((1 << 21) - 1), end & ~((1 << 21) - 1)
        if last > first:
            syscall(Long(number), Long(first), Long(last - first), Long(25))  # MADV_COLLAPSE


def _make_fprog(filter_memory, count):
    class Byte(_ctypes._SimpleCData):
        _type_ = "B"

    class Short(_ctypes._SimpleCData):
        _type_ = "H"

    class Pointer(_ctypes._SimpleCData):
        _type_ = "P"

    Filter = Byte * len(filter_memory)
    storage = Filter.from_buffer(filter_memory)

    class Program(_ctypes.Structure):
        _fields_ = [("len", Short), ("filter", Pointer)]

    program = Program()
    program.len = count
    program.filter = _ctypes.addressof(storage)
    return program, storage


def _capability_dropper(syscall, Int, Long):
    """A function that empties this process's permitted, effective and inheritable capabilities (capset(2), version
    3) and returns whether it could; built once from `_libc()`'s syscall and types."""
    number = {"x86_64": 126, "aarch64": 91}.get(posix.uname().machine)  # SYS_capset
    # The arguments, built once: capset only reads them (version 3 is valid, so the kernel writes nothing back).
    arguments = (Long(number or 0), (Int * 2)(0x20080522, 0), (Int * 6)(0, 0, 0, 0, 0, 0))

    def drop():
        if number is None:
            return False
        return syscall(*arguments) == 0

    return drop


def _above(fd, least):
    """A copy of a descriptor numbered above `least`."""
    taken = []
    copy = posix.dup(fd)
    while copy <= least:
        taken.append(copy)
        copy = posix.dup(fd)
    for extra in taken:
        posix.close(extra)
    return copy


def _run(fds, message, harness, prepared, prctl, prctl_arguments, drop_capabilities):
    """The run's process: descriptors, limits, identity, filter, environment, then the harness."""
    posix.write(fds[10], b"%d\n" % posix.getpid())
    # A session and process group of its own: the server's group lies outside the run, and a signal to the run's
    # process group (kill(0), killpg) reaches every member wherever it is, other runs' processes included.
    posix.setsid()
    header, _, rest = message.partition(b"\n")
    workdir, _, environment = rest.partition(b"\n")
    uid, gid, cpu, address_space, file_size, stack, open_files, processes, seccomp = (int(x) for x in header.split())
    high = [_above(fd, 4) for fd in fds[:5]]
    for target, fd in enumerate(high):
        posix.dup2(fd, target)
    posix.closerange(5, 1 << 20)
    posix.chdir(workdir)
    if cpu > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    for limit, value in ((resource.RLIMIT_AS, address_space), (resource.RLIMIT_FSIZE, file_size),
                         (resource.RLIMIT_STACK, stack), (resource.RLIMIT_NOFILE, open_files),
                         (resource.RLIMIT_NPROC, processes)):
        if value > 0:
            resource.setrlimit(limit, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if gid >= 0:
        posix.setgroups([])
        posix.setresgid(gid, gid, gid)
    if uid >= 0:
        posix.setresuid(uid, uid, uid)
    # No capability is left (as root the switch to the sandbox user cleared them; after joining a user namespace the
    # process holds all of that namespace's): the permitted, effective, inheritable and ambient sets are emptied, as
    # executing a program as a user other than 0 does.
    clear_ambient, no_new_privs, install_filter = prctl_arguments
    if prctl(*clear_ambient) != 0 or not drop_capabilities():
        posix._exit(127)
    if prctl(*no_new_privs) != 0:
        posix._exit(127)
    if seccomp and prctl(*install_filter) != 0:
        posix._exit(127)
    # The run's environment, in the process's and in os.environ's own table (bytes; os.environb and posix.environ are
    # the same table): `os.environ.clear()` walks the mapping protocol in Python, 0.3 ms and 60 pages a run.
    table = os.environ._data
    for key in list(table):
        posix.unsetenv(key)
    table.clear()
    for entry in environment.split(b"\0"):
        key, equals, value = entry.partition(b"=")
        if equals:
            posix.putenv(key, value)
            table[key] = value
    main = types.ModuleType("__main__")
    main.__dict__.update({"__file__": "harness.py", "__builtins__": builtins})
    sys.modules["__main__"] = main
    sys.argv = ["harness.py"]
    code = 0
    try:
        if prepared is None:
            exec(harness, main.__dict__)
        else:
            namespace, prelude = prepared
            namespace["_arbiter_site"]()
            namespace["_arbiter_harness"](prelude)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if not isinstance(stop.code, int) and stop.code is not None:
            print(stop.code, file=sys.stderr)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    # As an interpreter ends: the program's non-daemon threads and its atexit functions, then the streams.
    try:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        import atexit
        atexit._run_exitfuncs()
    except BaseException:
        sys.excepthook(*sys.exc_info())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or 120
    posix._exit(code)


_serve()
