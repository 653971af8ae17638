"""Time `lightcost table FILE.onnx` as a whole process against `python -c "import onnx"`.

For a few corpus files (tests/onnx_corpus), runs the baseline and lightcost interleaved
(baseline, each file, baseline, ...) so drift in the machine's load hits both alike, with
bytecode caches as a user's would (the package is byte-compiled first). Reports each
file's median wall time, the ratio to the baseline's median and the largest peak RSS.

Target (issue 13): within 1.5x of `import onnx` and under 150 MiB for resnet50. Prints a
table and the ratios; exits 1 when the resnet50 target is missed.

With ``--other-python PY`` (a Python with torch, torchvision, timm, onnx, onnx-tool,
fvcore and ptflops; never the project's), the same loop also times, as whole processes
under PY: onnx-tool profiling each file (``Model``, ``shape_infer``, ``profile``,
``print_node_map``) and fvcore's ``FlopCountAnalysis`` and ptflops'
``get_model_complexity_info`` building the model named in reference.json and counting,
and shows the MAdds each reports beside lightcost's. onnx-tool needs the weights, which the
corpus files lack: it is run on a copy whose external data file is zero-filled (sparse, the
stripped file's size), and the row says so; it is skipped with the reason if that fails.
Usage: python benchmarks/onnx_import.py [--runs N] [--other-python PY] [FILE ...]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from startup import lightcost_command

CORPUS = os.path.join(os.path.dirname(__file__), "..", "tests", "onnx_corpus")
FILES = ["resnet50.onnx", "mobilenet_v2.onnx", "efficientnet_b0.onnx", "densenet121.onnx"]
BASELINE = [sys.executable, "-c", "import onnx"]
TARGET_RATIO = 1.5
TARGET_MIB = 150.0
TARGET_FILE = "resnet50.onnx"

ONNX_TOOL = """import sys, onnx_tool
g = onnx_tool.Model(sys.argv[1], {"verbose": False}).graph
g.graph_reorder_nodes(); g.shape_infer(); g.profile(); g.print_node_map()
print("MADDS", int(g.macs[0]))
"""
BUILD = """import json, sys, torch
lib, name, kwargs, shape = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
shape = [int(n) for n in shape.split(",")]
if lib == "timm":
    import timm
    model = timm.create_model(name, pretrained=False, **kwargs).eval()
else:
    import torchvision
    model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
"""
FVCORE = (
    BUILD
    + """from fvcore.nn import FlopCountAnalysis
with torch.no_grad():
    count = FlopCountAnalysis(model, torch.zeros(shape))
    count.unsupported_ops_warnings(False); count.uncalled_modules_warnings(False)
    print("MADDS", int(count.total()))
"""
)
PTFLOPS = (
    BUILD
    + """from ptflops import get_model_complexity_info
with torch.no_grad():
    macs, _ = get_model_complexity_info(model, tuple(shape[1:]), as_strings=False,
                                        print_per_layer_stat=False, verbose=False)
print("MADDS", int(macs))
"""
)


def command(file: str) -> list[str]:
    """`lightcost table FILE` through the console script beside this Python."""
    return [*lightcost_command()[:-2], "table", os.path.join(CORPUS, file)]


def run_once(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one child process (as startup.run_once)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:]
        raise RuntimeError(tail[0] if tail else f"status {status}")
    return elapsed, usage.ru_maxrss / 1024, out.decode(errors="replace")


def zero_weights(file: str, directory: str) -> str:
    """A copy of a corpus file in ``directory`` with its external data files zero-filled."""
    import onnx

    path = os.path.join(directory, file)
    shutil.copy(os.path.join(CORPUS, file), path)
    sizes: dict[str, int] = {}
    model = onnx.load(path, load_external_data=False)
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            info = {entry.key: entry.value for entry in tensor.external_data}
            end = int(info.get("offset", 0)) + int(info["length"])
            sizes[info["location"]] = max(sizes.get(info["location"], 0), end)
    for loc, size in sizes.items():
        with open(os.path.join(directory, loc), "wb") as handle:
            handle.truncate(size)
    return path


def other_commands(
    python: str, files: list[str], directory: str
) -> dict[tuple[str, str], list[str]]:
    """The onnx-tool, fvcore and ptflops commands under ``python``, by (tool, file)."""
    with open(os.path.join(CORPUS, "reference.json")) as handle:
        reference = json.load(handle)["files"]
    commands: dict[tuple[str, str], list[str]] = {}
    for file in files:
        commands["onnx-tool*", file] = [python, "-c", ONNX_TOOL, zero_weights(file, directory)]
        ref = reference[file]
        args = [ref["library"], ref["model"], json.dumps(ref["kwargs"])]
        args.append(",".join(str(n) for n in ref["input"]))
        commands["fvcore", file] = [python, "-c", FVCORE, *args]
        commands["ptflops", file] = [python, "-c", PTFLOPS, *args]
    return commands


def interleaved(commands: dict[tuple[str, str], list[str]], runs: int) -> tuple[dict, dict]:
    """Wall seconds and peak MiB of each run by (tool, file), after a warm-up, and the MAdds
    each command printed (or why it was skipped)."""
    madds: dict[tuple[str, str], str] = {}
    for key, cmd in list(commands.items()):
        try:
            out = run_once(cmd)[2]
        except RuntimeError as exc:
            madds[key] = f"skipped: {exc}"
            del commands[key]
            continue
        found = [line.split()[1] for line in out.splitlines() if line.startswith("MADDS ")]
        madds[key] = found[-1] if found else ""
    results: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in commands}
    for _ in range(runs):
        for key, cmd in commands.items():
            results[key].append(run_once(cmd)[:2])
    return results, madds


def lightcost_madds(file: str) -> int:
    """lightcost's MAdds for a corpus file, in this process."""
    from lightcost.api import build
    from lightcost.cost.engine import cost_graph

    return int(cost_graph(build(os.path.join(CORPUS, file)), "trainable").total().madds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--other-python", help="Python with torch, onnx-tool, fvcore, ptflops")
    parser.add_argument("files", nargs="*", default=FILES)
    args = parser.parse_args()
    import lightcost

    compileall.compile_dir(os.path.dirname(lightcost.__file__), quiet=1)
    commands = {("baseline", ""): BASELINE}
    commands.update({("lightcost", file): command(file) for file in args.files})
    with tempfile.TemporaryDirectory() as directory:
        if args.other_python:
            commands.update(other_commands(args.other_python, args.files, directory))
        results, madds = interleaved(commands, args.runs)
    base = statistics.median(t for t, _ in results["baseline", ""])
    ours = {file: lightcost_madds(file) for file in args.files} if args.other_python else {}
    ok = True
    print(f"{'tool':11} {'model':22} {'median ms':>10} {'peak MiB':>9} {'ratio':>7}"
          + (f" {'MAdds':>14} {'vs lightcost':>12}" if ours else ""))  # fmt: skip
    for (tool, file), printed in madds.items():
        model = file.removesuffix(".onnx") if file else "python -c 'import onnx'"
        if printed.startswith("skipped"):
            print(f"{tool:11} {model:22} {printed}")
            continue
        runs = results[tool, file]
        median, peak = statistics.median(t for t, _ in runs), max(m for _, m in runs)
        line = f"{tool:11} {model:22} {median * 1000:10.1f} {peak:9.1f} {median / base:6.2f}x"
        if ours and file:
            count = ours[file] if tool == "lightcost" else int(printed) if printed else 0
            line += f" {count:14,d} {count / ours[file]:11.4f}x" if count else ""
        print(line)
        if (tool, file) == ("lightcost", TARGET_FILE):
            ok = median / base <= TARGET_RATIO and peak < TARGET_MIB
    if args.other_python:
        print("onnx-tool*: run on a copy with zero-filled weights (the corpus strips them; "
              "onnx-tool fails without them)")  # fmt: skip
    print(f"target: {TARGET_FILE} within {TARGET_RATIO}x of import onnx and under "
          f"{TARGET_MIB:.0f} MiB; median of {args.runs} interleaved runs each")  # fmt: skip
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
