#!/usr/bin/env python3
"""Benchmark ``slocompiler validate`` and ``build`` on synthetic spec trees.

    python benchmarks/run.py [--sizes 1000,10000] [--repeat 1] [--cmd 'slocompiler']

For each size N it generates N SLOs in N/20 files (``gen_specs.py``) into a
temporary folder, then times, as child processes:

- ``slocompiler validate SPECS``
- ``slocompiler build SPECS -o OUT`` (into an empty OUT each time)
- once, ``slocompiler validate ONE_FILE`` (a fresh process on one small file:
  start-up cost)

Times are wall clock, best of ``--repeat``; peak RSS is the largest ``VmHWM``
of the child and its workers, read every 20 ms while they run (``ru_maxrss``
from ``wait4`` would include this process's own peak: the kernel folds it in
when a vforked child execs), the largest over the repeats.

Beside the build time it prints a *floor*: what PyYAML's C (libyaml) loader
and dumper alone need for the same YAML, measured in this process: loading
every input file (``yaml.load_all(..., Loader=CSafeLoader)``) plus dumping
every rule file the build wrote (re-loaded untimed, then
``yaml.dump_all(..., Dumper=CSafeDumper)`` timed, not written). A compiler
with its own YAML emitter can beat the dump half of it.

The report is Markdown on stdout (progress goes to stderr). Every command is
run even if an earlier one fails; failures are listed after the tables and
the exit code is then 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_specs import generate

REPO_ROOT = Path(__file__).resolve().parents[1]
SLOS_PER_FILE = 20
TAIL_LINES = 25


# --------------------------------------------------------------------------- running children


@dataclass
class Run:
    """One child process: its command, exit, wall time and peak RSS."""

    argv: list[str]
    returncode: int | None = None  # None: could not start, or killed on timeout
    wall: float = float("nan")
    maxrss_kb: int = 0
    cpu: float = float("nan")      # user + system seconds of the child and the children it waited for
    stdout: str = ""
    stderr: str = ""
    error: str = ""  # why it did not run / finish

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.error

    def describe_failure(self) -> str:
        lines = [f"$ {shlex.join(self.argv)}"]
        if self.error:
            lines.append(self.error)
        else:
            lines.append(f"exit code {self.returncode}")
        for name, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            tail = text.rstrip().splitlines()[-TAIL_LINES:]
            if tail:
                lines.append(f"--- last {len(tail)} lines of {name}:")
                lines.extend(tail)
        return "\n".join(lines)


def run_child(argv: list[str], cwd: Path | None = None, timeout: float | None = None,
              env: dict[str, str] | None = None, inherit: bool = True) -> Run:
    """Run ``argv`` and measure its wall time and the peak RSS of it (and its waited-for children).
    ENV is added to this process's environment, or (``inherit=False``) is the whole of it."""
    result = Run(argv=list(argv))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            # own process group, so that a timeout also ends any workers it started
            proc = subprocess.Popen(
                argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
                env={**os.environ, **(env or {})} if inherit else dict(env or {}),
            )
        except OSError as exc:
            result.error = f"could not start: {exc}"
            return result
        finished = threading.Event()
        timed_out = threading.Event()

        def kill() -> None:
            if not finished.is_set():
                timed_out.set()
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        peak = [0]
        watcher = threading.Thread(target=_watch_peak, args=(proc.pid, finished, peak), daemon=True)
        watcher.start()
        try:
            while True:
                try:
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                except InterruptedError:
                    continue
        finally:
            finished.set()
            if timer:
                timer.cancel()
        result.wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # reaped here; keep Popen from waiting again
        result.returncode = code
        watcher.join()
        # ru_maxrss of a child started by vfork includes this process's own peak (the kernel folds the
        # old image's high-water mark into it at exec): the high-water marks of the child and its
        # workers, read while they run, are the child's own (Linux); ru_maxrss elsewhere
        result.maxrss_kb = peak[0] or usage.ru_maxrss  # kilobytes on Linux
        result.cpu = usage.ru_utime + usage.ru_stime
        if timed_out.is_set():
            result.error = f"killed after the {timeout:g} s timeout"
            result.returncode = None
        elif code < 0:
            result.error = f"killed by signal {-code}"
        for buf, attr in ((out, "stdout"), (err, "stderr")):
            buf.seek(0)
            setattr(result, attr, buf.read().decode("utf-8", "replace"))
    return result


def _hwm_kb(pid: int) -> int:
    """VmHWM (the peak RSS of the process's current image) of PID in KB; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            pass
    return found


def _watch_peak(pid: int, done: threading.Event, peak: list[int]) -> None:
    """The largest VmHWM of PID and its descendants (its workers), read every 20 ms until DONE."""
    while not done.is_set():
        for p in _descendants(pid):
            peak[0] = max(peak[0], _hwm_kb(p))
        done.wait(0.02)


def best_of(runs: list[Run]) -> Run:
    """The fastest successful run (else the last one), carrying the largest RSS seen."""
    good = [r for r in runs if r.ok]
    best = min(good, key=lambda r: r.wall) if good else runs[-1]
    best.maxrss_kb = max(r.maxrss_kb for r in runs)
    return best


# --------------------------------------------------------------------------- the YAML floor


def yaml_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))


CPU_SPENT: dict[str, float] = {}  # the floor's CPU seconds (this process), by part, best run


def time_load(paths: list[Path]) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        with open(path, "rb") as f:
            list(yaml.load_all(f, Loader=yaml.CSafeLoader))
    _spent("load", time.process_time() - cpu)
    return time.perf_counter() - start


def time_dump(paths: list[Path]) -> float:
    loaded = []
    for path in paths:
        with open(path, "rb") as f:
            loaded.append(list(yaml.load_all(f, Loader=yaml.CSafeLoader)))
    start, cpu = time.perf_counter(), time.process_time()
    for docs in loaded:
        yaml.dump_all(docs, Dumper=yaml.CSafeDumper)
    _spent("dump", time.process_time() - cpu)
    return time.perf_counter() - start


def _spent(part: str, cpu: float) -> None:
    CPU_SPENT[part] = min(CPU_SPENT.get(part, cpu), cpu)


# --------------------------------------------------------------------------- one size


@dataclass
class SizeResult:
    n_slos: int
    n_files: int
    input_bytes: int = 0
    gen_seconds: float = 0.0
    validate: Run | None = None
    build: Run | None = None
    output_files: int = 0
    output_bytes: int = 0
    output_root: str = ""
    floor_load: float | None = None
    floor_dump: float | None = None
    noop: Run | None = None       # build again, nothing changed (hashes every output once)
    edited: Run | None = None     # build after one spec file changed
    check: Run | None = None      # build --check after that
    floor_cpu: float | None = None  # CPU seconds of the floor (load + dump)
    notes: list[str] = field(default_factory=list)


def bench_size(
    n_slos: int, cmd: list[str], work: Path, repeat: int, seed: int, timeout: float, want_single: bool
) -> tuple[SizeResult, Run | None]:
    n_files = max(1, n_slos // SLOS_PER_FILE)
    res = SizeResult(n_slos=n_slos, n_files=n_files)
    specs, out = work / "specs", work / "out"

    progress(f"[{n_slos} SLOs] generating {n_files} files ...")
    start = time.perf_counter()
    gen = generate(n_slos, n_files, specs, seed=seed)
    res.gen_seconds = time.perf_counter() - start
    res.input_bytes = gen.bytes_written

    single = None
    if want_single:
        one = specs / gen.files[0]
        progress(f"[{n_slos} SLOs] validate one file (fresh process)")
        single = run_child([*cmd, "validate", str(one)], cwd=work, timeout=timeout)

    progress(f"[{n_slos} SLOs] validate x{repeat}")
    res.validate = best_of([run_child([*cmd, "validate", str(specs)], cwd=work, timeout=timeout) for _ in range(repeat)])

    builds = []
    cache = work / "cache"
    env = {"SLOCOMPILER_CACHE_DIR": str(cache)}
    build = [*cmd, "build", str(specs), "-o", str(out)]
    for i in range(repeat):
        progress(f"[{n_slos} SLOs] build {i + 1}/{repeat}")
        for folder in (out, cache):
            if folder.exists():
                shutil.rmtree(folder)
        builds.append(run_child(build, cwd=work, timeout=timeout, env=env))
    res.build = best_of(builds)

    progress(f"[{n_slos} SLOs] incremental: rebuild, edit one file, rebuild, check")
    res.noop = run_child(build, cwd=work, timeout=timeout, env=env)
    edited = specs / gen.files[len(gen.files) // 2]
    text = edited.read_text()
    edits = []
    for i in range(repeat):
        edited.write_text(_edit_objective(text, i))  # a real change to compile every time
        edits.append(run_child(build, cwd=work, timeout=timeout, env=env))
    res.edited = best_of(edits)
    res.check = best_of([run_child([*build, "--check"], cwd=work, timeout=timeout, env=env) for _ in range(repeat)])

    progress(f"[{n_slos} SLOs] YAML floor x{repeat}")
    CPU_SPENT.clear()
    inputs = yaml_files(specs)
    res.floor_load = min(time_load(inputs) for _ in range(repeat))
    rules_root = out / "prometheus"
    if not rules_root.is_dir() and out.is_dir():
        rules_root = out
        res.notes.append("the build wrote no OUT/prometheus folder; the floor dumps every YAML file under OUT")
    outputs = yaml_files(rules_root) if rules_root.is_dir() else []
    res.output_root = str(rules_root.relative_to(work)) if rules_root.is_dir() else ""
    res.output_files = len(outputs)
    res.output_bytes = sum(p.stat().st_size for p in outputs)
    if outputs:
        try:
            res.floor_dump = min(time_dump(outputs) for _ in range(repeat))
        except yaml.YAMLError as exc:
            res.notes.append(f"build output is not loadable YAML: {exc}")
    res.floor_cpu = sum(CPU_SPENT.values()) if "dump" in CPU_SPENT else None
    return res, single


def _edit_objective(text: str, i: int) -> str:
    """TEXT with its first SLO objective set to a value that differs for every I."""
    import re

    return re.sub(r"objective: [0-9.]+", f"objective: {90 + (i % 9) + 0.5}", text, count=1)


# --------------------------------------------------------------------------- report


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def slocompiler_version() -> str:
    try:
        from importlib.metadata import version

        return version("slocompiler")
    except Exception:  # not installed in this interpreter
        return "unknown"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    return rev or "unknown"


def fmt_s(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:  # None or NaN
        return "n/a"
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def fmt_mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.1f}"


def fmt_run_time(run: Run | None) -> str:
    if run is None:
        return "n/a"
    if run.ok:
        return fmt_s(run.wall)
    if run.returncode is None:
        return "FAILED"
    return f"{fmt_s(run.wall)} (exit {run.returncode})"


def fmt_cpu(run: Run | None) -> str:
    return fmt_s(run.cpu) if run is not None and run.ok else "n/a"


def fmt_rss(run: Run | None) -> str:
    return f"{run.maxrss_kb / 1024:.0f}" if run and run.maxrss_kb else "n/a"


def report(results: list[SizeResult], single: Run | None, cmd: list[str], repeat: int, seed: int) -> str:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    libyaml = "with libyaml" if getattr(yaml, "__with_libyaml__", False) else "WITHOUT libyaml"
    lines = [
        "## slocompiler benchmark",
        "",
        f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cpu_model()}; {os.cpu_count()} cores ({affinity} usable); {mem_total()} RAM; "
        f"{platform.system()} {platform.machine()}",
        f"- python {platform.python_version()} ({platform.python_implementation()}); PyYAML {yaml.__version__} {libyaml}",
        f"- slocompiler {slocompiler_version()} at {git_revision()}; command `{shlex.join(cmd)}`",
        f"- inputs: `benchmarks/gen_specs.py`, seed {seed}, {SLOS_PER_FILE} SLOs a file; "
        f"times are wall clock, best of {repeat}; CPU is user + system of the child and its workers "
        f"(of this process for the floor); RSS is the child's peak",
        "",
        "| SLOs | files | input MB | validate s | build s | YAML floor s (load + dump) | build / floor "
        "| validate RSS MB | build RSS MB | rule files | rules MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        if r.floor_dump is not None:
            floor = r.floor_load + r.floor_dump
            floor_txt = f"{fmt_s(floor)} ({fmt_s(r.floor_load)} + {fmt_s(r.floor_dump)})"
            ratio = f"{r.build.wall / floor:.1f}x" if r.build and r.build.ok and floor > 0 else "n/a"
        else:
            floor_txt = f"{fmt_s(r.floor_load)} + n/a (load only)"
            ratio = "n/a"
        lines.append(
            f"| {r.n_slos} | {r.n_files} | {fmt_mb(r.input_bytes)} | {fmt_run_time(r.validate)} "
            f"| {fmt_run_time(r.build)} | {floor_txt} | {ratio} | {fmt_rss(r.validate)} | {fmt_rss(r.build)} "
            f"| {r.output_files} | {fmt_mb(r.output_bytes)} |"
        )
    lines += [
        "",
        "CPU time (steadier than wall on a shared machine):",
        "",
        "| SLOs | validate CPU s | build CPU s | YAML floor CPU s | build / floor (CPU) | rebuild after one edit CPU s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        cpu_ratio = (f"{r.build.cpu / r.floor_cpu:.2f}x" if r.build and r.build.ok and r.floor_cpu else "n/a")
        lines.append(f"| {r.n_slos} | {fmt_cpu(r.validate)} | {fmt_cpu(r.build)} "
                     f"| {fmt_s(r.floor_cpu) if r.floor_cpu is not None else 'n/a'} | {cpu_ratio} "
                     f"| {fmt_cpu(r.edited)} |")
    lines += [
        "",
        "YAML floor: PyYAML's C loader reading every input file, plus its C dumper serializing every "
        "rule file the build wrote (in memory, not written), in this process. It is what reading and "
        "writing the same YAML with PyYAML alone costs; a build that writes its output with its own "
        "emitter instead of `yaml.dump` can come in under it (build / floor < 1x).",
    ]
    lines += [
        "",
        "Incremental builds (the cache of `build`, in a folder of its own; same tree, after the build above):",
        "",
        "| SLOs | rebuild, nothing changed s | rebuild after one spec file changed s | `build --check` after it s "
        "| RSS MB (edit) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r.n_slos} | {fmt_run_time(r.noop)} | {fmt_run_time(r.edited)} | {fmt_run_time(r.check)} "
                     f"| {fmt_rss(r.edited)} |")
    lines += [
        "",
        "The first rebuild reads and hashes every output once (files written by the previous build are "
        "not trusted by their time stamps); later ones compare inode, size and times as git does.",
    ]
    if single is not None:
        lines += [
            "",
            "| one spec file, fresh process | s | RSS MB |",
            "| --- | ---: | ---: |",
            f"| `validate {Path(single.argv[-1]).name}` | {fmt_run_time(single)} | {fmt_rss(single)} |",
        ]
    notes = [f"- {r.n_slos} SLOs: {note}" for r in results for note in r.notes]
    if notes:
        lines += ["", "Notes:", *notes]
    failures = [run for r in results for run in (r.validate, r.build, r.noop, r.edited, r.check)
                if run and not run.ok]
    if single is not None and not single.ok:
        failures.insert(0, single)
    if failures:
        lines += ["", f"### {len(failures)} failed command(s)", ""]
        for run in failures:
            lines += ["```", run.describe_failure(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- CLI


def default_command() -> list[str]:
    """The venv's ``slocompiler`` script beside this interpreter, else one on PATH, else ``python -m``."""
    beside = Path(sys.executable).parent / "slocompiler"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("slocompiler")
    if found:
        return [found]
    return [sys.executable, "-m", "slocompiler"]


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=[1000, 10000], help="SLO counts, comma-separated (default 1000,10000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement, best is kept (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--cmd", help="command to benchmark instead of the venv's slocompiler, e.g. 'python -m slocompiler'")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a child is killed (default 1800)")
    parser.add_argument("--keep", type=Path, help="keep the generated specs and outputs under this folder (must not exist)")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    if args.keep and args.keep.exists():
        parser.error(f"--keep folder {args.keep} already exists")
    cmd = shlex.split(args.cmd) if args.cmd else default_command()

    base = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="slocompiler-bench-"))
    results: list[SizeResult] = []
    single: Run | None = None
    try:
        for i, n in enumerate(args.sizes):
            work = base / f"n{n}"
            if work.exists():  # the same size given twice
                work = base / f"n{n}-{i}"
            work.mkdir(parents=True)
            res, one = bench_size(n, cmd, work, args.repeat, args.seed, args.timeout, want_single=(i == 0))
            results.append(res)
            single = single or one
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    text = report(results, single, cmd, args.repeat, args.seed)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.keep:
        progress(f"kept specs and outputs under {base}")
    failed = any(run is not None and not run.ok for r in results for run in (r.validate, r.build))
    return 1 if failed or (single is not None and not single.ok) else 0


if __name__ == "__main__":
    sys.exit(main())
