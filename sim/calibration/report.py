"""A calibration's report, `report.md` with its figures in `figures/`: how the generations went
(threshold, acceptance, effective sample size), what the record says about each parameter
(posterior against prior, identifiability), the pairs of the best-identified parameters, and the
fit of every target by the accepted runs.

The fit shown here is that of the final population's own runs (one per particle, the run that was
accepted); `scripts/update_docs.py` reruns the shipped draws through the replayed record (to
March 2026) for docs/VALIDATION.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.analysis import targets
from sim.calibration import abc
from sim.calibration.posterior import Marginal
from sim.calibration.problem import Problem
from sim.model.parameters import NOT_NARROWED

PAIRS = 5  # parameters in the pairs plot


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, the same on a server and in CI
    import matplotlib.pyplot as plt

    return plt


def fmt(x: float) -> str:
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1e5:
        return f"{x:.3g}"
    if a >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def fit_table(last: abc.Generation, record: tuple[targets.Target, ...]) -> list[dict]:
    """Per target: observed, the accepted runs' median and 90% range, and whether the observation
    (or its interval) meets that range."""
    sim = last.evaluations.values
    rows = []
    for i, t in enumerate(record):
        x = sim[:, i]
        x = x[np.isfinite(x)]
        if not len(x):
            continue
        lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95])
        rows.append({"target": t.label, "period": t.period, "observed": t.shown,
                     "median": med, "low": lo, "high": hi, "share": t.share,
                     "covered": targets.met(t, lo, hi)})
    return rows


def _figure_generations(plt, generations, path):
    fig, ax = plt.subplots(1, 3, figsize=(11, 3))
    g = [x.index for x in generations]
    ax[0].plot(g[1:], [x.epsilon for x in generations[1:]], "o-")
    ax[0].set_title("threshold epsilon")
    ax[1].plot(g, [100 * x.acceptance for x in generations], "o-")
    ax[1].set_title("acceptance, %")
    ax[2].plot(g, [x.ess for x in generations], "o-")
    ax[2].set_title("effective sample size")
    for a in ax:
        a.set_xlabel("generation")
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _figure_marginals(plt, problem, last, found, path):
    shown = [j for j, m in enumerate(found) if m.adapted or m.identified]
    if not shown:
        return False
    cols = 4
    rows = -(-len(shown) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.3 * rows), squeeze=False)
    for a in axes.flat:
        a.set_visible(False)
    for a, j in zip(axes.flat, shown, strict=False):
        a.set_visible(True)
        a.hist(last.unit[:, j], bins=20, range=(0, 1), weights=last.weights * 20, alpha=0.7,
               color="tab:blue", label="posterior")
        a.axhline(1, color="grey", ls="--", label="prior")
        m = found[j]
        a.set_title(m.name, fontsize=8)
        a.set_xticks([0, 0.5, 1])
        mid = problem.factors[j].value(0.5)
        a.set_xticklabels([fmt(m.low), fmt(mid), fmt(m.high)], fontsize=7)
        a.tick_params(axis="y", labelsize=7)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Posterior (bars) against prior (dashed), on the prior's scale", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _figure_pairs(plt, last, found, path):
    order = np.argsort([m.width_ratio for m in found])[:PAIRS]
    k = len(order)
    fig, axes = plt.subplots(k, k, figsize=(2.1 * k, 2.1 * k), squeeze=False)
    size = 4 + 400 * last.weights / last.weights.max() / len(last.weights) * 10
    for r, i in enumerate(order):
        for c, j in enumerate(order):
            a = axes[r, c]
            if r == c:
                a.hist(last.unit[:, i], bins=15, range=(0, 1), weights=last.weights)
            else:
                a.scatter(last.unit[:, j], last.unit[:, i], s=size, alpha=0.4)
                a.set_xlim(0, 1)
                a.set_ylim(0, 1)
            a.set_xticks([])
            a.set_yticks([])
            if r == k - 1:
                a.set_xlabel(found[j].name, fontsize=6)
            if c == 0:
                a.set_ylabel(found[i].name, fontsize=6)
    fig.suptitle("Pairs of the best-identified parameters (unit scale of each prior)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _figure_fit(plt, last, record, path):
    families = [("capital_gang_share_area", "Capital under gang control (share of area)"),
                ("displaced", "Displaced people"), ("killed", "Killed per quarter"),
                ("kidnappings", "Kidnapped per quarter")]
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5))
    sim = last.evaluations.values
    for a, (metric, title) in zip(axes.flat, families, strict=True):
        idx = [i for i, t in enumerate(record) if t.metric == metric]
        for i in idx:
            t = record[i]
            when = t.when if not t.flow else t.when + (t.until - t.when) / 2
            x = sim[:, i][np.isfinite(sim[:, i])]
            lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95])
            a.vlines(when, lo, hi, color="tab:blue", lw=6, alpha=0.35)
            a.plot(when, med, "_", color="tab:blue", ms=14, mew=2)
            olo, ohi = targets.observed_range(t)
            if olo != ohi:
                a.vlines(when, olo, ohi, color="black", lw=1.5)
            else:
                a.plot(when, t.value, "o", color="black", ms=5)
        a.set_title(title, fontsize=10)
        a.grid(alpha=0.3)
        a.tick_params(labelsize=8)
    axes.flat[0].plot([], [], color="tab:blue", lw=6, alpha=0.35, label="runs: 90% range")
    axes.flat[0].plot([], [], "o", color="black", label="observed (line: interval)")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _value(x: float, share: bool) -> str:
    return f"{100 * x:.0f}%" if share else fmt(x)


def write(out: str | Path, problem: Problem, generations: list[abc.Generation],
          found: list[Marginal]) -> Path:
    """Write report.md and its figures into `out`; return the report's path."""
    out = Path(out)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    plt = _pyplot()
    last = generations[-1]
    _figure_generations(plt, generations, figures / "generations.png")
    has_marginals = _figure_marginals(plt, problem, last, found, figures / "marginals.png")
    _figure_pairs(plt, last, found, figures / "pairs.png")
    _figure_fit(plt, last, problem.record, figures / "fit.png")
    sims = sum(g.simulations for g in generations)
    lines = [
        "# Calibration report", "",
        f"ABC-SMC of {len(problem.factors)} parameters against {len(problem.record)} figures "
        f"of the record {problem.scenario.start} to {problem.scenario.end} "
        f"({problem.source}): {sims:,} simulations in {len(generations)} generations, "
        f"{len(last.weights)} particles.", "",
        "## Generations", "",
        "![generations](figures/generations.png)", "",
        "| generation | epsilon | simulations | acceptance | ESS |",
        "|---|---|---|---|---|",
        *(f"| {g.index} | {g.epsilon:.2f} | {g.simulations:,} | {g.acceptance:.1%} | "
          f"{g.ess:.0f} |" for g in generations), "",
        f"Generation 0 is the prior sample; its best {len(generations[0].weights)} start the "
        f"sequence. The kernel adapts {int(last.adapted.sum())} parameters (screened on "
        "generation 0, `sim.calibration.abc.screen`); the others are drawn from their prior "
        "at every proposal.", "",
        "## Fit of every target (the final population's runs)", "",
        "![fit](figures/fit.png)", "",
        "| target | period | observed | runs: median [90%] | met |", "|---|---|---|---|---|",
    ]
    table = fit_table(last, problem.record)
    for r in table:
        lines.append(f"| {r['target']} | {r['period']} | {r['observed']} | "
                     f"{_value(r['median'], r['share'])} [{_value(r['low'], r['share'])} to "
                     f"{_value(r['high'], r['share'])}] | {'yes' if r['covered'] else 'no'} |")
    met = sum(r["covered"] for r in table)
    lines += ["", f"{met} of {len(table)} observations fall within the runs' 90% range.", "",
              "## Parameters: posterior against prior", ""]
    if has_marginals:
        lines += ["![marginals](figures/marginals.png)", ""]
    lines += ["![pairs](figures/pairs.png)", "",
              f"Width ratio: the posterior's 90% interval over the prior's, on the prior's "
              f"scale; below {NOT_NARROWED} the record narrows the parameter (identified), "
              f"near 1 it stays at its prior.", "",
              "| parameter | prior | posterior median [90%] | width ratio | identified | "
              "adapted |", "|---|---|---|---|---|---|"]
    for m in sorted(found, key=lambda m: m.width_ratio):
        prior = f"{fmt(m.low)} to {fmt(m.high)}{' (log)' if m.log else ''}"
        lines.append(f"| {m.name} | {prior} | {fmt(m.median)} [{fmt(m.q05)} to "
                     f"{fmt(m.q95)}] | {m.width_ratio:.2f} | "
                     f"{'yes' if m.identified else 'no'} | {'yes' if m.adapted else ''} |")
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
