"""Attribution benchmark: salesmkt vs ChannelAttribution, side by side in one run.

Synthetic journeys with 8 channels and 10k, 100k and 1M unique paths (path length 1-10,
journeys per unique path 1 + NegBin(2, 0.2), conversion probability driven by the channels
on the path), cached as Parquet in ``benchmarks/data/``. Every (tool, task, size) runs in its
own subprocess, so the peak memory printed (``ru_maxrss``) belongs to that tool alone; the
input frame is loaded before timing starts and its memory is printed beside it.

Measured:

* first-order Markov attribution: ``salesmkt.attribute(models=["markov"])`` (exact, from the
  path strings) vs ``ChannelAttribution.markov_model`` (defaults: 1e5 simulated walks): the
  first call in a fresh process (imports done before the clock starts; salesmkt runs its
  numpy passes, then loads numba in the background) and the warm calls after it (numba
  kernels), medians over ``--processes`` fresh processes per tool taking turns. Besides the
  ratio of the medians, ``paired`` is the median of the ratios of the processes run back to
  back, which a machine whose load changes during the run disturbs less;
* rule-based models: every ``salesmkt`` rule on 1M journeys, from a journeys table with
  timestamps and CRM milestones; ChannelAttribution's ``heuristic_models`` beside them;
* correctness: Markov with the same path-length cut-off as ChannelAttribution run with 1e7
  simulated walks (per-channel difference as a share of the channel's credit), and first,
  last and linear against ``heuristic_models``.

ChannelAttribution is GPL-3 and only installed for the benchmark (``pip install -e
.[bench]``). Run from the repository root::

    .venv/bin/python benchmarks/bench_attribution.py            # all sizes, 3 repeats
    .venv/bin/python benchmarks/bench_attribution.py --sizes 10000 --repeats 1
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
CHANNELS = np.array(
    [
        "paid_search",
        "organic_search",
        "email",
        "display",
        "paid_social",
        "referral",
        "direct",
        "events",
    ]
)
EFFECT = np.array([0.35, 0.25, 0.3, -0.2, 0.0, 0.6, 0.1, 0.5])
RULES = [
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "w_shaped",
    "full_path",
]


def make_paths(n_unique: int, seed: int = 42) -> pd.DataFrame:
    """``n_unique`` distinct paths in ChannelAttribution's format."""
    path = DATA / f"paths_{n_unique}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    rng = np.random.default_rng(seed)
    chunks, seen = [], 0
    while seen < n_unique:
        m = int((n_unique - seen) * 1.3) + 1000
        lengths = rng.integers(1, 11, m)
        codes = rng.integers(0, 8, lengths.sum())
        offsets = np.r_[0, np.cumsum(lengths)]
        names = CHANNELS[codes]
        strings = [" > ".join(names[a:b]) for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        score = np.add.reduceat(EFFECT[codes], offsets[:-1]) / np.sqrt(lengths)
        chunks.append(pd.DataFrame({"path": strings, "score": score}))
        allp = pd.concat(chunks).drop_duplicates("path")
        chunks, seen = [allp], len(allp)
    paths = chunks[0].iloc[:n_unique].reset_index(drop=True)
    volume = 1 + rng.negative_binomial(2, 0.2, len(paths))
    p_conv = 1 / (1 + np.exp(-(paths["score"].to_numpy() - 0.4)))
    conv = rng.binomial(volume, p_conv)
    out = pd.DataFrame(
        {
            "path": paths["path"],
            "total_conversions": conv.astype(np.int64),
            "total_null": (volume - conv).astype(np.int64),
            "total_conversion_value": np.round(conv * rng.lognormal(7, 0.5, len(paths)), 2),
        }
    )
    DATA.mkdir(parents=True, exist_ok=True)
    out.to_parquet(path)
    return out


def make_journeys(n_journeys: int, seed: int = 7) -> pd.DataFrame:
    """A journeys table (one row per touch) as :func:`salesmkt.build_journeys` returns it."""
    path = DATA / f"journeys_{n_journeys}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 11, n_journeys)
    total = int(n.sum())
    jid = np.repeat(np.arange(n_journeys), n)
    pos = np.arange(total) - np.repeat(np.r_[0, np.cumsum(n)[:-1]], n)
    nn = np.repeat(n, n)
    days = np.sort(rng.exponential(15, total))[::-1]  # any order; then per-journey decreasing
    days = (nn - 1 - pos) * 3.0 + rng.random(total)
    lead = np.repeat(rng.integers(0, n), n)
    deal = np.repeat(np.minimum(n - 1, rng.integers(0, n) + 1), n)
    converted = np.repeat(rng.random(n_journeys) < 0.3, n)
    out = pd.DataFrame(
        {
            "journey_id": jid,
            "converted": converted,
            "conversion_value": np.where(converted, 1000.0, np.nan),
            "n_touches": nn,
            "touch_index": pos,
            "channel": pd.Categorical.from_codes(rng.integers(0, 8, total), CHANNELS),
            "days_before_conversion": days,
            "lead_touch": pos == lead,
            "deal_touch": pos == deal,
            "won_touch": pos == nn - 1,
        }
    )
    DATA.mkdir(parents=True, exist_ok=True)
    out.to_parquet(path)
    return out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _quiet(fn):
    """Run ``fn`` with stdout swallowed (ChannelAttribution prints banners and progress)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        return fn()


def worker(task: str, size: int, repeats: int) -> dict:
    """Run one (task, size) in this process and report timings and peak memory."""
    data = make_journeys(size) if task.startswith("rule:") else make_paths(size)
    rss_data = _rss_mb()
    t_import = time.perf_counter()
    if task == "salesmkt_markov":
        from salesmkt import attribute  # imports the attribution module (numba stays lazy)

        def fn():
            return attribute(data, models=["markov"])
    elif task == "ca_markov":
        ca = _quiet(lambda: __import__("ChannelAttribution"))

        def fn():
            return _quiet(
                lambda: ca.markov_model(
                    data,
                    "path",
                    "total_conversions",
                    var_null="total_null",
                    order=1,
                    verbose=False,
                    flg_pro=False,
                )
            )
    elif task == "ca_heuristic":
        ca = _quiet(lambda: __import__("ChannelAttribution"))

        def fn():
            return _quiet(
                lambda: ca.heuristic_models(data, "path", "total_conversions", flg_pro=False)
            )
    elif task.startswith("rule:"):
        import salesmkt

        model = task.split(":", 1)[1]

        def fn():
            return salesmkt.attribute(data, models=[model])
    else:
        raise ValueError(task)
    import_s = time.perf_counter() - t_import
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if i == 0 and task == "salesmkt_markov":
            # Warm means settled: salesmkt's first call starts loading numba in a daemon
            # thread; wait for it so the warm calls measure the compiled kernels alone.
            from salesmkt.campaigns import _jit

            _jit.warm_up(background=False)
    return {
        "task": task,
        "size": size,
        "median_s": statistics.median(times),
        "first_s": times[0],
        "warm_s": statistics.median(times[1:]) if len(times) > 1 else float("nan"),
        "import_s": import_s,
        "times": times,
        "peak_rss_mb": _rss_mb(),
        "data_rss_mb": rss_data,
    }


def correctness(size: int, nsim: float) -> dict:
    """salesmkt vs ChannelAttribution at the same cut-off, and the heuristic models."""
    ca = _quiet(lambda: __import__("ChannelAttribution"))

    import salesmkt
    from salesmkt.campaigns._paths import from_path_counts
    from salesmkt.campaigns.markov import collapse_repeats

    data = make_paths(size)
    parsed = from_path_counts(data)
    _, off = collapse_repeats(parsed)
    max_step = int(np.diff(off).max()) + 1  # ChannelAttribution's default
    t0 = time.perf_counter()
    ref = _quiet(
        lambda: ca.markov_model(
            data,
            "path",
            "total_conversions",
            var_null="total_null",
            order=1,
            nsim_start=nsim,
            max_step=max_step,
            verbose=False,
            flg_pro=False,
        )
    )
    t_ref = time.perf_counter() - t0
    ref = ref.set_index("channel_name")["total_conversions"]
    out = {"size": size, "nsim": nsim, "max_step": max_step, "ca_seconds": t_ref}
    for label, steps in (("cutoff", max_step), ("exact", None)):
        ours = salesmkt.attribute(data, models=["markov"], max_steps=steps)
        ours = ours.set_index("channel")["attributed_conversions"].reindex(ref.index)
        rel = (ours - ref).abs() / ref
        out[f"markov_{label}_max_rel_diff"] = float(rel.max())
        out[f"markov_{label}_rel_diff"] = {k: round(float(v), 5) for k, v in rel.items()}
    heur = _quiet(lambda: ca.heuristic_models(data, "path", "total_conversions", flg_pro=False))
    heur = heur.set_index("channel_name")
    ours = salesmkt.attribute(data, models=["first_touch", "last_touch", "linear"])
    wide = ours.pivot(index="channel", columns="model", values="attributed_conversions")
    for ours_name, ca_name in (
        ("first_touch", "first_touch"),
        ("last_touch", "last_touch"),
        ("linear", "linear_touch"),
    ):
        diff = (wide[ours_name].reindex(heur.index) - heur[ca_name]).abs().max()
        out[f"{ours_name}_max_abs_diff"] = float(diff)
    return out


def run(task: str, size: int, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", task, str(size), str(repeats)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="warm calls per process")
    parser.add_argument(
        "--processes", type=int, default=5, help="fresh processes per tool and size (Markov)"
    )
    parser.add_argument("--rule-journeys", type=int, default=1_000_000)
    parser.add_argument("--markov-only", action="store_true", help="skip rules and correctness")
    parser.add_argument("--check-size", type=int, default=10_000)
    parser.add_argument("--check-nsim", type=float, default=1e7)
    parser.add_argument("--worker", nargs=3, metavar=("TASK", "SIZE", "REPEATS"))
    parser.add_argument("--prepare", nargs=2, metavar=("SIZES", "JOURNEYS"))
    args = parser.parse_args()
    if args.prepare:
        for size in args.prepare[0].split():
            make_paths(int(size))
        make_journeys(int(args.prepare[1]))
        return
    if args.worker:
        task, size, repeats = args.worker
        print(json.dumps(worker(task, int(size), int(repeats))))
        return
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    # Inputs are generated in a child process: Linux keeps a process's peak RSS across exec,
    # so a parent holding the data would inflate every worker's reading.
    sizes = " ".join(str(s) for s in args.sizes)
    subprocess.run(
        [sys.executable, __file__, "--prepare", sizes, str(args.rule_journeys)], check=True
    )

    print(
        f"\n## Markov order 1: first call in a fresh process and warm calls "
        f"(medians over {args.processes} fresh processes per tool, taking turns; each process "
        f"imports, makes its first call, then {args.repeats} warm calls)"
    )
    print(
        f"{'unique paths':>12} {'sm first':>9} {'CA first':>9} {'ratio':>6} "
        f"{'sm warm':>8} {'CA warm':>8} {'ratio':>6} {'sm import':>9} {'CA import':>9} "
        f"{'sm MB':>6} {'CA MB':>6} {'data MB':>7}"
    )
    for size in args.sizes:
        runs: dict[str, list[dict]] = {"salesmkt_markov": [], "ca_markov": []}
        for _ in range(args.processes):
            for task, results in runs.items():
                results.append(run(task, size, 1 + args.repeats))

        def med(task, key, runs=runs):
            return statistics.median(r[key] for r in runs[task])

        sm, ca = "salesmkt_markov", "ca_markov"
        print(
            f"{size:>12,} {med(sm, 'first_s'):>9.3f} {med(ca, 'first_s'):>9.3f} "
            f"{med(ca, 'first_s') / med(sm, 'first_s'):>5.1f}x "
            f"{med(sm, 'warm_s'):>8.3f} {med(ca, 'warm_s'):>8.3f} "
            f"{med(ca, 'warm_s') / med(sm, 'warm_s'):>5.1f}x "
            f"{med(sm, 'import_s'):>9.3f} {med(ca, 'import_s'):>9.3f} "
            f"{med(sm, 'peak_rss_mb'):>6.0f} {med(ca, 'peak_rss_mb'):>6.0f} "
            f"{med(sm, 'data_rss_mb'):>7.0f}"
        )
        for task, results in runs.items():
            firsts = ", ".join(f"{r['first_s']:.2f}" for r in results)
            print(f"{'':>12} {task} first calls: {firsts}")
        paired = [c["first_s"] / m["first_s"] for m, c in zip(runs[sm], runs[ca], strict=True)]
        paired_warm = [c["warm_s"] / m["warm_s"] for m, c in zip(runs[sm], runs[ca], strict=True)]
        print(
            f"{'':>12} paired ratios (CA / salesmkt, back-to-back processes): first call "
            f"{statistics.median(paired):.1f}x (min {min(paired):.1f}x), warm "
            f"{statistics.median(paired_warm):.1f}x (min {min(paired_warm):.1f}x)"
        )

    if args.markov_only:
        return
    n = args.rule_journeys
    print(f"\n## Rule-based models on {n:,} journeys (journeys table with milestones)")
    print(f"{'model':>16} {'median s':>9} {'peak MB':>8} {'data MB':>8}")
    for model in RULES:
        res = run(f"rule:{model}", n, args.repeats)
        print(
            f"{model:>16} {res['median_s']:>9.3f} {res['peak_rss_mb']:>8.0f} "
            f"{res['data_rss_mb']:>8.0f}"
        )
    ca_h = run("ca_heuristic", max(args.sizes), args.repeats)
    print(
        f"{'CA heuristic':>16} {ca_h['median_s']:>9.3f} {ca_h['peak_rss_mb']:>8.0f} "
        f"(first+last+linear on {max(args.sizes):,} unique paths)"
    )

    print(
        f"\n## Correctness on {args.check_size:,} unique paths "
        f"(ChannelAttribution with {args.check_nsim:.0e} simulated walks)"
    )
    check = correctness(args.check_size, args.check_nsim)
    print(
        f"max_step = {check['max_step']} (ChannelAttribution's default); "
        f"its run took {check['ca_seconds']:.1f} s"
    )
    print(
        f"Markov, same cut-off: max per-channel relative difference "
        f"{check['markov_cutoff_max_rel_diff']:.3%}"
    )
    print(f"  per channel: {check['markov_cutoff_rel_diff']}")
    print(f"Markov, exact (no cut-off) vs CA: max {check['markov_exact_max_rel_diff']:.3%}")
    for m in ("first_touch", "last_touch", "linear"):
        print(f"{m} vs heuristic_models: max abs difference {check[f'{m}_max_abs_diff']:.2e}")


if __name__ == "__main__":
    main()
