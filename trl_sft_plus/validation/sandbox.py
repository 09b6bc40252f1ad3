"""Run untrusted Python (a model's answer and the assert lines that test it) in a child process, never in ours.

Each run gets:
- a fresh `python -I` process with an empty environment, in a throwaway `tempfile.TemporaryDirectory`;
- limits (`SandboxLimits`): CPU seconds, address space, file size, processes (threads count), open files, no core
  files; a wall-clock timeout for the whole run and an alarm per assert;
- where Linux namespaces work (`unshare` from util-linux, probed once per process): its own network namespace (only
  a loopback that is down: every connection fails), PID namespace (when the run ends, every process it started
  ends with it) and mount namespace in which the whole filesystem is read-only except the throwaway folder. Its
  capabilities are dropped before the untrusted interpreter starts, so it cannot undo any of this;
- when started as root, the uid and gid `nobody` (65534): root ignores the process limit, and `nobody` cannot
  write what root owns.

Without working namespaces, `run_tests` raises `SandboxUnavailable` unless `allow_network=True` (or the environment
variable `TRL_SFT_PLUS_SANDBOX_ALLOW_NETWORK=1`): then the code runs with the limits and the uid drop only, and can
reach the network and write wherever its user may.

The limits are set by a small trusted shim that execs the interpreter, not by `preexec_fn` (unsafe with threads):
many runs go in parallel threads. The score is not hardened against code written to forge it (the answer runs in the
same interpreter as the test runner); the host is what the sandbox protects.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ALLOW_NETWORK_ENV = "TRL_SFT_PLUS_SANDBOX_ALLOW_NETWORK"
NOBODY = 65534
OUTPUT_TAIL_CHARS = 2000


class SandboxUnavailable(RuntimeError):
    """Code cannot be run with the isolation asked for on this machine; the message says why and how to opt out."""


@dataclass(frozen=True)
class SandboxLimits:
    timeout: float = 10.0  # wall clock for the whole run, interpreter start included
    test_timeout: float = 3.0  # each assert, and the answer's own top-level code, gets this much wall clock
    memory_bytes: int = 1 << 30  # address space (RLIMIT_AS)
    file_bytes: int = 1 << 20  # largest file it may write (RLIMIT_FSIZE)
    processes: int = 32  # processes and threads (RLIMIT_NPROC; counted within the sandbox's user namespace)
    open_files: int = 64


@dataclass(frozen=True)
class Isolation:
    """How runs are isolated here: `namespaces` (network, PID, read-only mounts) and the uid/gid they run as."""

    namespaces: bool
    python: str
    uid: int | None = None
    gid: int | None = None
    reason: str = ""  # why namespaces are not used, when they are not


@dataclass
class TestRun:
    """The outcome of one answer's tests: `passed[i]` for assert line i, and why each failure failed."""

    passed: list[bool]
    errors: list[str | None]
    setup_error: str | None = None  # the answer's own top-level code raised (the tests still ran)
    timed_out: bool = False  # the whole run hit the wall clock; tests not reached count as failed
    returncode: int | None = None
    output: str = ""  # the tail of what the code printed
    namespaces: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return sum(self.passed) / len(self.passed) if self.passed else math.nan

    def to_dict(self) -> dict:
        return asdict(self)


# The shim runs first in the child, trusted: mounts (inside the namespaces), capabilities, limits, then exec.
_SHIM = r"""
import ctypes, json, os, resource, sys
cfg = json.loads(sys.argv[1])
if cfg["namespaces"]:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = libc.mount.restype = libc.prctl.restype = ctypes.c_long
    def check(result, what):
        if result != 0:
            raise SystemExit(f"sandbox shim: {what} failed: {os.strerror(ctypes.get_errno())}")
    class MountAttr(ctypes.Structure):
        _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                    ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]
    SYS_mount_setattr, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY, MS_BIND = 442, -100, 0x8000, 1, 4096
    wd = cfg["wd"].encode()
    check(libc.mount(wd, wd, None, MS_BIND, None), "bind mount of the work folder")
    ro = MountAttr(attr_set=MOUNT_ATTR_RDONLY)
    check(libc.syscall(SYS_mount_setattr, AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(ro), 32), "read-only /")
    rw = MountAttr(attr_clr=MOUNT_ATTR_RDONLY)
    check(libc.syscall(SYS_mount_setattr, AT_FDCWD, wd, 0, ctypes.byref(rw), 32), "writable work folder")
    os.chdir(cfg["wd"])  # the bind mount, not the folder under it
    PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
    for cap in range(64):  # an empty bounding set: the exec below gets no capabilities, even as uid 0 here
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and cap <= 40:
            check(-1, f"dropping capability {cap}")
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
limits = cfg["limits"]
for name, value in (("RLIMIT_CORE", 0), ("RLIMIT_CPU", limits["cpu"]), ("RLIMIT_AS", limits["memory_bytes"]),
                    ("RLIMIT_FSIZE", limits["file_bytes"]), ("RLIMIT_NOFILE", limits["open_files"]),
                    ("RLIMIT_NPROC", limits["processes"])):
    resource.setrlimit(getattr(resource, name), (value, value))
os.execv(cfg["python"], [cfg["python"], "-I", "runner.py"])
"""

# The runner: defines the answer, then runs each assert line, reporting each result on the original stdout.
_RUNNER = r"""
import json, os, signal, sys
results = os.fdopen(os.dup(1), "w")
log = os.open("output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.dup2(log, 1)
os.dup2(log, 2)
os.close(log)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file limit fails instead of killing the runner
with open("job.json", encoding="utf-8") as handle:
    job = json.load(handle)

class TestTimeout(BaseException):
    pass

def on_alarm(signum, frame):
    raise TestTimeout()

signal.signal(signal.SIGALRM, on_alarm)

def run(source, name, namespace):
    try:
        signal.setitimer(signal.ITIMER_REAL, job["test_timeout"])
        try:
            exec(compile(source, name, "exec"), namespace)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except TestTimeout:
        return f"timeout after {job['test_timeout']} s"
    except BaseException as error:
        return (f"{type(error).__name__}: {error}")[:300]
    return None

def report(**record):
    results.write(json.dumps(record) + "\n")
    results.flush()

namespace = {"__name__": "solution", "__builtins__": __builtins__}
report(kind="setup", error=run(job["code"], "<answer>", namespace))
for index, test in enumerate(job["tests"]):
    error = run(test, f"<test {index}>", namespace)
    report(kind="test", index=index, error=error)
results.close()
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except BaseException:
        pass
os._exit(0)  # no atexit handlers of the answer
"""


def _reachable_by_others(path: str) -> bool:
    """Whether a user that owns nothing here can execute `path` (every folder above it searchable by others)."""
    real = Path(os.path.realpath(path))
    try:
        if not real.is_file() or real.stat().st_mode & (stat.S_IROTH | stat.S_IXOTH) != (stat.S_IROTH | stat.S_IXOTH):
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in real.parents)
    except OSError:
        return False


def _interpreter_for(uid: int | None) -> str:
    """This interpreter, or when the run drops to `nobody`, the first Python that `nobody` can start."""
    candidates = [sys.executable, getattr(sys, "_base_executable", ""), shutil.which("python3") or ""]
    if uid is None:
        return sys.executable
    for candidate in candidates + ["/usr/bin/python3", "/usr/local/bin/python3"]:
        if candidate and _reachable_by_others(candidate):
            return os.path.realpath(candidate)
    raise SandboxUnavailable(
        f"Running as root, code is run as uid {NOBODY}, but no Python interpreter is readable by that user "
        f"(tried {', '.join(c for c in candidates if c)}, /usr/bin/python3). Install a system python3."
    )


def _command(isolation: Isolation, config: dict) -> list[str]:
    shim = [isolation.python, "-I", "-S", "-c", _SHIM, json.dumps(config)]
    if not isolation.namespaces:
        return shim
    unshare = shutil.which("unshare") or "unshare"
    return [unshare, "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child", *shim]


def _execute(isolation: Isolation, code: str, tests: Sequence[str], limits: SandboxLimits) -> TestRun:
    with tempfile.TemporaryDirectory(prefix="sftplus-sandbox-", ignore_cleanup_errors=True) as wd:
        (Path(wd) / "runner.py").write_text(_RUNNER, encoding="utf-8")
        job = {"code": code, "tests": list(tests), "test_timeout": limits.test_timeout}
        (Path(wd) / "job.json").write_text(json.dumps(job), encoding="utf-8")
        if isolation.uid is not None:
            os.chown(wd, isolation.uid, isolation.gid)
        config = {
            "namespaces": isolation.namespaces,
            "wd": wd,
            "python": isolation.python,
            "limits": {
                "cpu": max(1, math.ceil(limits.timeout)),
                "memory_bytes": limits.memory_bytes,
                "file_bytes": limits.file_bytes,
                "open_files": limits.open_files,
                "processes": limits.processes,
            },
        }
        kwargs = {}
        if isolation.uid is not None:
            kwargs = {"user": isolation.uid, "group": isolation.gid, "extra_groups": []}
        process = subprocess.Popen(
            _command(isolation, config),
            cwd=wd,
            env={},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            **kwargs,
        )
        timed_out = False
        try:
            stdout, stderr = process.communicate(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(process)
            stdout, stderr = process.communicate()
        output = ""
        log = Path(wd) / "output.txt"
        if log.is_file():
            with log.open("rb") as handle:
                handle.seek(max(0, log.stat().st_size - OUTPUT_TAIL_CHARS))
                output = handle.read().decode("utf-8", "replace")
    return _parse(stdout, stderr, len(tests), timed_out, process.returncode, output, isolation.namespaces)


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the run: `unshare --kill-child` takes the PID namespace down with it; the process group otherwise."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _parse(
    stdout: bytes, stderr: bytes, count: int, timed_out: bool, returncode: int | None, output: str, namespaces: bool
) -> TestRun:
    errors: list[str | None] = ["not run: the run ended before this test" for _ in range(count)]
    ran = [False] * count
    setup_error = None
    setup_seen = False
    for line in stdout.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("kind") == "setup":
            setup_seen, setup_error = True, record.get("error")
        elif record.get("kind") == "test" and 0 <= record.get("index", -1) < count:
            ran[record["index"]] = True
            errors[record["index"]] = record.get("error")
    if timed_out:
        errors = [e if r else "not run: wall-clock timeout" for e, r in zip(errors, ran, strict=True)]
    if not setup_seen:
        setup_error = f"the runner did not start (exit {returncode}): {stderr.decode('utf-8', 'replace')[-500:]}"
    return TestRun(
        passed=[r and e is None for r, e in zip(ran, errors, strict=True)],
        errors=errors,
        setup_error=setup_error,
        timed_out=timed_out,
        returncode=returncode,
        output=output,
        namespaces=namespaces,
    )


@functools.cache
def probe() -> Isolation:
    """How this machine isolates runs (cached): namespaces when a trivial run inside them works, else none."""
    uid = NOBODY if os.geteuid() == 0 else None
    gid = NOBODY if uid is not None else None
    python = _interpreter_for(uid)
    isolated = Isolation(True, python, uid, gid)
    if not sys.platform.startswith("linux"):
        return Isolation(False, python, uid, gid, "Linux namespaces are not available on this platform")
    if shutil.which("unshare") is None:
        return Isolation(False, python, uid, gid, "`unshare` (util-linux) is not installed")
    result = _execute(isolated, "x = 1", ["assert x == 1"], SandboxLimits(timeout=20))
    if result.passed != [True]:
        detail = result.setup_error or result.errors[0] or ""
        return Isolation(False, python, uid, gid, f"a run inside network/PID/mount namespaces failed: {detail}")
    return isolated


def network_allowed(allow_network: bool = False) -> bool:
    return allow_network or os.environ.get(ALLOW_NETWORK_ENV, "") == "1"


def isolation(allow_network: bool = False) -> Isolation:
    """The isolation runs get here; raises `SandboxUnavailable` when namespaces do not work and no opt-out was given."""
    found = probe()
    if not found.namespaces and not network_allowed(allow_network):
        raise SandboxUnavailable(
            f"Cannot run generated code without network access here: {found.reason}. Set "
            f"{ALLOW_NETWORK_ENV}=1 (or pass allow_network=True) to run it with resource limits only, with network "
            "access and writes wherever its user may write."
        )
    return found


def run_tests(
    code: str, tests: Sequence[str], *, limits: SandboxLimits | None = None, allow_network: bool = False
) -> TestRun:
    """Define `code` and run each assert line of `tests` against it, in one sandboxed process."""
    return _execute(isolation(allow_network), code, tests, limits or SandboxLimits())


def run_many(
    jobs: Iterable[tuple[str, Sequence[str]]],
    *,
    limits: SandboxLimits | None = None,
    allow_network: bool = False,
    max_workers: int | None = None,
) -> list[TestRun]:
    """`run_tests` for many (code, tests) pairs, several processes at a time; results in input order."""
    jobs = list(jobs)
    found = isolation(allow_network)
    workers = max_workers or min(8, 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs) or 1))) as pool:
        return list(pool.map(lambda job: _execute(found, job[0], job[1], limits or SandboxLimits()), jobs))
