"""The sandbox that runs generated code: results per assert, and that it holds against loops, huge allocations, fork
bombs, writes outside its folder and network calls. Every check asserts what happened, not only that it returned."""

from __future__ import annotations

import os
import random
import socket
import tempfile
import time
from pathlib import Path

import pytest

from trl_sft_plus.validation import sandbox
from trl_sft_plus.validation.sandbox import Isolation, SandboxLimits, SandboxUnavailable, run_many, run_tests

needs_namespaces = pytest.mark.skipif(
    not sandbox.probe().namespaces, reason=f"no Linux namespaces here: {sandbox.probe().reason}"
)
FAST = SandboxLimits(timeout=6, test_timeout=1.5)


def test_each_assert_is_reported_and_state_is_shared():
    code = "def add(a, b):\n    return a + b\nprint('defined')"
    result = run_tests(
        code, ["assert add(1, 2) == 3", "assert add(1, 2) == 4", "total = add(2, 2)", "assert total == 4"]
    )
    assert result.passed == [True, False, True, True]
    assert result.errors[1].startswith("AssertionError")
    assert result.setup_error is None and not result.timed_out
    assert result.fraction == 0.75
    assert result.output == "defined\n"


def test_answer_that_raises_at_top_level_still_gets_its_tests_run():
    result = run_tests("def f():\n    return 1\nraise ValueError('demo code')", ["assert f() == 1"])
    assert result.setup_error == "ValueError: demo code"
    assert result.passed == [True]


def test_fresh_isolated_interpreter_with_empty_environment_in_a_throwaway_folder():
    probe = (
        "import os, sys\n"
        "info = (sys.flags.isolated, dict(os.environ), sorted(os.listdir('.')), os.path.basename(os.getcwd()))\n"
    )
    result = run_tests(
        probe,
        [
            "assert info[0] == 1",
            "assert set(info[1]) <= {'LC_CTYPE'}",  # PEP 538: Python itself coerces the C locale
            "assert 'job.json' in info[2]",
            "assert info[3].startswith('sftplus-sandbox-')",
        ],
    )
    assert result.passed == [True, True, True, True], result.errors


@needs_namespaces
def test_infinite_loop_is_stopped_per_assert_and_by_the_wall_clock():
    started = time.monotonic()
    result = run_tests("x = 1", ["while True:\n    pass", "assert x == 1"], limits=FAST)
    assert result.passed == [False, True]
    assert result.errors[0] == "timeout after 1.5 s"
    # A loop that swallows the per-assert alarm is ended by the wall clock; later tests count as failed.
    stubborn = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    result = run_tests("x = 1", ["assert x == 1", stubborn, "assert x == 1"], limits=SandboxLimits(timeout=3))
    elapsed = time.monotonic() - started
    assert result.timed_out
    assert result.passed == [True, False, False]
    assert result.errors[2] == "not run: wall-clock timeout"
    assert elapsed < 1.5 + 3 + 4


def test_huge_allocation_fails_inside_the_memory_limit():
    limits = SandboxLimits(memory_bytes=512 << 20, timeout=8)
    code = "import resource\nlimit = resource.getrlimit(resource.RLIMIT_AS)[0]"
    result = run_tests(code, [f"assert limit == {512 << 20}", "data = bytearray(8 * 2**30)"], limits=limits)
    assert result.passed == [True, False]
    assert result.errors[1].startswith("MemoryError")
    assert not result.timed_out


def test_file_size_limit():
    result = run_tests("", ["open('big.bin', 'wb').write(b'x' * (2 << 20))"], limits=SandboxLimits(file_bytes=1 << 20))
    assert result.passed == [False]
    assert "File too large" in result.errors[0]


@needs_namespaces
def test_fork_bomb_is_capped_and_every_process_ends_with_the_run():
    marker = f"600.{random.randrange(10**8, 10**9)}"  # a sleep argument no other process has
    code = (
        "import os\n"
        "def bomb():\n"
        "    made = 0\n"
        "    try:\n"
        "        while True:\n"
        "            if os.fork() == 0:\n"
        f"                os.execv('/bin/sleep', ['sleep', {marker!r}])\n"
        "            made += 1\n"
        "    except OSError:\n"
        "        return made\n"
    )
    limits = SandboxLimits(processes=16, timeout=6, test_timeout=2)
    result = run_tests(code, ["made = bomb()", "assert 0 < made < 16", "while True:\n    os.fork()"], limits=limits)
    assert result.passed == [True, True, False], result.errors
    time.sleep(0.3)
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                survivors.append(pid)
        except OSError:
            continue
    assert survivors == []


@needs_namespaces
def test_no_writes_outside_the_throwaway_folder(tmp_path):
    outside = tmp_path / "outside.txt"
    in_tmp = Path(tempfile.gettempdir()) / f"sftplus-sandbox-escape-{random.randrange(10**9)}.txt"
    tests = [
        "open('inside.txt', 'w').write('ok')",
        f"open({str(outside)!r}, 'w').write('escaped')",
        f"open({str(in_tmp)!r}, 'w').write('escaped')",
        f"import os; os.makedirs({str(tmp_path / 'made')!r})",
    ]
    result = run_tests("", tests)
    assert result.passed == [True, False, False, False]
    assert all(error.startswith(("OSError", "PermissionError")) for error in result.errors[1:]), result.errors
    assert not outside.exists() and not in_tmp.exists() and not (tmp_path / "made").exists()
    assert sorted(os.listdir(tmp_path)) == []


@needs_namespaces
def test_no_network_even_to_a_listener_on_this_machine():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        code = "import socket"
        tests = [
            f"socket.create_connection(('127.0.0.1', {port}), timeout=2).close()",
            "socket.getaddrinfo('huggingface.co', 443)",
        ]
        result = run_tests(code, tests, limits=FAST)
        listener.settimeout(0.5)
        with pytest.raises(TimeoutError):
            listener.accept()
    assert result.passed == [False, False]
    assert result.errors[0].startswith("OSError") or result.errors[0].startswith("ConnectionRefusedError")


def test_refuses_without_namespaces_unless_the_network_opt_out_is_given(monkeypatch):
    bare = Isolation(False, sandbox.probe().python, sandbox.probe().uid, sandbox.probe().gid, "no unshare (test)")
    monkeypatch.setattr(sandbox, "probe", lambda: bare)
    monkeypatch.delenv(sandbox.ALLOW_NETWORK_ENV, raising=False)
    with pytest.raises(SandboxUnavailable, match="no unshare"):
        run_tests("x = 1", ["assert x == 1"])
    assert run_tests("x = 1", ["assert x == 1"], allow_network=True).passed == [True]
    monkeypatch.setenv(sandbox.ALLOW_NETWORK_ENV, "1")
    result = run_tests("import resource\nn = resource.getrlimit(resource.RLIMIT_NPROC)[0]", ["assert n == 32"])
    assert result.passed == [True] and not result.namespaces


def test_run_many_keeps_order():
    jobs = [(f"def f():\n    return {i}", [f"assert f() == {i}", "assert f() == -1"]) for i in range(6)]
    results = run_many(jobs, max_workers=3)
    assert [r.passed for r in results] == [[True, False]] * 6
