"""Time and peak memory of lightcost on hostile files, revisions and numbers.

Each case runs ``python -m lightcost ...`` as a child process in a scratch folder,
with a time limit (a blocking read shows as ``timeout``) and an address-space
limit (a read until MemoryError shows its peak, not the machine's swap), and
prints its exit status, wall time, peak RSS and first stderr line. Run it with
``PYTHONPATH`` set to another checkout to measure that code instead.
Linux only (FIFOs, /dev/zero, ``os.wait4``). Usage: python benchmarks/inputs.py
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

TIMEOUT_S = 10.0
ADDRESS_SPACE = 4 * 2**30  # bytes a child may map
HUGE = 300 * 2**20  # bytes of the large-file cases
PROFILE = "name: {name}\npeak_flops: {flops}\nbandwidth: 1e9\nkernel_overhead: {overhead}\n"
BUDGET = "budgets:\n  - spec: mobilenet_v1\n    {key}: {value}\n    latency: 5ms\n"


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(args: list[str], folder: str) -> tuple[str, float, float, str]:
    """Exit status (or ``timeout``), wall seconds, peak RSS in MiB, first stderr line."""
    env = {**os.environ, "NO_COLOR": "1"}
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "lightcost", *args],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=limit_memory,
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        child.kill()

    timer = threading.Timer(TIMEOUT_S, kill)
    timer.start()
    assert child.stderr is not None
    stderr = child.stderr.read(4096).decode("utf-8", "replace")
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    timer.cancel()
    seconds = time.perf_counter() - start
    code = "timeout" if killed.is_set() else str(child.returncode)
    first = stderr.splitlines()[0] if stderr else ""
    return code, seconds, usage.ru_maxrss / 1024, first


def git(folder: str, *args: str) -> None:
    command = ["git", "-c", "user.name=b", "-c", "user.email=b@b", *args]
    subprocess.run(command, cwd=folder, check=True, capture_output=True)


def prepare(folder: str) -> None:
    """The scratch files: a FIFO, a huge file, bad profiles and budgets, a git repository."""
    os.mkfifo(os.path.join(folder, "fifo.yaml"))
    os.mkdir(
        os.path.join(folder, "pwned.txt:.")
    )  # where git show --output=pwned.txt:./net.yaml writes
    with open(os.path.join(folder, "huge.yaml"), "w") as handle:
        handle.write(("#" * 1023 + "\n") * (HUGE // 1024))
    files = {
        "zeros.yaml": PROFILE.format(name="zeros", flops="1" + "0" * 400, overhead=0),
        "tiny.yaml": PROFILE.format(name="tiny", flops="1.0e-300", overhead=0),
        "slow.yaml": PROFILE.format(name="slow", flops="1e12", overhead="1e308"),
        "device5.yaml": BUDGET.format(key="device", value=5),
        "net.yaml": "input: [3, 32, 32]\nlayers:\n  - {op: conv, k: 3, out: 16}\n",
    }
    for name, text in files.items():
        with open(os.path.join(folder, name), "w") as handle:
            handle.write(text)
    git(folder, "init", "-q")
    git(folder, "add", "net.yaml")
    git(folder, "commit", "-q", "-m", "net")
    with open(os.path.join(folder, "net.yaml"), "a") as handle:
        handle.write(("#" * 1023 + "\n") * (64 * 1024))  # 64 MiB at the next commit
    git(folder, "commit", "-q", "-am", "big")
    git(folder, "checkout", "-q", "HEAD~1", "--", "net.yaml")


CASES = {
    "check --budgets FIFO": ["check", "--budgets", "fifo.yaml"],
    "check --budgets /dev/zero": ["check", "--budgets", "/dev/zero"],
    "check --budgets /dev/urandom": ["check", "--budgets", "/dev/urandom"],
    "check --budgets 300 MiB file": ["check", "--budgets", "huge.yaml"],
    "table --device 300 MiB file": ["table", "mobilenet_v1", "--device", "huge.yaml"],
    "table --device FIFO": ["table", "mobilenet_v1", "--device", "fifo.yaml"],
    "table 300 MiB spec": ["table", "huge.yaml"],
    "diff --rev=--output=pwned.txt": ["diff", "net.yaml", "--rev=--output=pwned.txt"],
    "diff --rev HEAD (64 MiB blob)": ["diff", "net.yaml", "--rev", "HEAD"],
    "--device peak_flops 1e400 (int)": ["table", "mobilenet_v1", "--device", "zeros.yaml"],
    "--device peak_flops 1.0e-300": ["table", "mobilenet_v1", "--device", "tiny.yaml"],
    "--device kernel_overhead 1e308": ["table", "mobilenet_v1", "--device", "slow.yaml"],
    "budget device: 5": ["check", "--budgets", "device5.yaml"],
    "--set classes=1e5000 (int)": ["table", "mobilenet_v1", "--set", "classes=1" + "0" * 5000],
}


def main() -> None:
    if shutil.which("git") is None or not hasattr(os, "mkfifo"):
        sys.exit("needs git and FIFOs (Linux)")
    with tempfile.TemporaryDirectory() as folder:
        prepare(folder)
        print(f"{'case':34} {'exit':>7} {'seconds':>8} {'peak MiB':>9}  first stderr line")
        for name, args in CASES.items():
            code, seconds, peak, first = run(args, folder)
            print(f"{name:34} {code:>7} {seconds:8.2f} {peak:9.1f}  {first[:90]}")
        pwned = os.path.exists(os.path.join(folder, "pwned.txt:.", "net.yaml"))
        print(f"git wrote the file --output named: {'yes' if pwned else 'no'}")


if __name__ == "__main__":
    main()
