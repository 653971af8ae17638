"""Timing ONNX models with onnxruntime: pinned threads, warm-up, interleaved rounds.

Every model gets one session (CPU provider, all graph optimizations: the runtime
folds and fuses as it would in deployment). Each round runs every model once,
in turn, so a disturbance of the machine spreads over all models instead of
spoiling one; a model's time is the :data:`QUIET` quantile of its rounds
(:func:`quiet`): a shared machine's disturbances only add time, so a low quantile
estimates the time of its quieter states, the same for kernels, networks and models.

On one thread the clock is the thread's CPU time (onnxruntime then computes on
the calling thread): time the thread spent waiting for a core, which other
processes of a shared machine take, does not count; on a quiet machine it
equals the wall time. With more threads the clock is the wall time. onnxruntime and numpy
are imported here only (``pip install 'lightcost[calibrate]'``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

MAX_THREADS = 256
MAX_ROUNDS = 200
ROUNDS = 15  # the default of `calibrate --runtime` and of the validation benchmark


def session(model: bytes, threads: int) -> Any:
    """An onnxruntime CPU session of a serialized model on ``threads`` threads."""
    import onnxruntime as ort  # type: ignore[import-untyped]

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = True  # the default; without it every run maps fresh pages
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def feed(run: Any, seed: int = 0) -> dict[str, Any]:
    """Random float32 inputs for every input of a session (dynamic dimensions as 1)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return {
        i.name: rng.standard_normal(
            [d if isinstance(d, int) and d > 0 else 1 for d in i.shape], dtype=np.float32
        )
        for i in run.get_inputs()
    }


class Bench:
    """Sessions of serialized models (one each, with its random inputs, warmed up),
    timed round by round: :meth:`round` runs them once more each.

    Each run is ``burst`` runs back to back of which the fastest counts (a run the
    machine disturbed is dropped).
    """

    def __init__(
        self, models: Sequence[bytes], threads: int = 1, warmup: int = 2, burst: int = 3
    ) -> None:
        self.sessions = [session(m, threads) for m in models]
        self.feeds = [feed(s) for s in self.sessions]
        self.burst = burst
        self.clock = time.thread_time if threads == 1 else time.perf_counter
        for run, inputs in zip(self.sessions, self.feeds, strict=True):
            for _ in range(warmup):
                run.run(None, inputs)

    def round(self, order: Sequence[int] | None = None) -> list[float]:
        """Seconds of one run of each model in ``order`` (indices, repeats allowed;
        default: each model once)."""
        sequence = range(len(self.sessions)) if order is None else order
        times = []
        for index in sequence:
            run, inputs = self.sessions[index], self.feeds[index]
            best = float("inf")
            for _ in range(self.burst):
                start = self.clock()
                run.run(None, inputs)
                best = min(best, self.clock() - start)
            times.append(best)
        return times


def time_models(
    models: Sequence[bytes],
    threads: int = 1,
    rounds: int = 15,
    warmup: int = 2,
    advance: Callable[[int], None] | None = None,
    burst: int = 3,
    order: Sequence[int] | None = None,
) -> list[list[float]]:
    """Seconds of every round of every run (``[run][round]``), rounds interleaved.

    A round runs the models in ``order`` (indices into ``models``, repeats allowed:
    a reference model run again beside each model it is compared with; default:
    each model once), as :meth:`Bench.round`; ``advance(n)`` is told of n more runs
    done (a progress bar).
    """
    bench = Bench(models, threads, warmup, burst)
    sequence = list(range(len(models))) if order is None else list(order)
    times: list[list[float]] = [[] for _ in sequence]
    for _ in range(rounds):
        for position, seconds in enumerate(bench.round(sequence)):
            times[position].append(seconds)
        if advance is not None:
            advance(len(sequence))
    return times


QUIET = 0.1  # the quantile of a model's rounds taken as its time (:func:`quiet`)


def quiet(values: Sequence[float], share: float = QUIET) -> float:
    """The ``share`` quantile of a non-empty sequence (linear between order statistics, as
    numpy's default): a model's time over its rounds, in the machine's quieter states."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
