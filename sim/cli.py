"""The `haiti-sim` command line: run, batch, compare, validate scenario files, list parameters.

A thin layer: it parses arguments, calls `sim.running.batch`, `sim.analysis.compare` and
`sim.analysis.report`, and prints.
Mistakes by users (a bad scenario file, an unknown or out-of-range `--set`, a missing directory)
and the operating system's refusals (a read-only or full disk, no permission, `--out` on a file)
print one message to stderr and exit with status 2, never a traceback; a run that fails inside
the model is a bug, and keeps its traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import textwrap
import time
from pathlib import Path

from sim.analysis import compare, discover, goals, report, search, sensitivity, sweep
from sim.model import scenario
from sim.model.parameters import GROUPS, PARAMS, ROLES
from sim.model.scenario import ScenarioError
from sim.running import batch, design, engine, ensemble, levels
from sim.running.progress import DaysBar, SearchBar
from sim.running.results import ResultsDir, ResultsError, package_version, write_json

USER_ERRORS = (ScenarioError, batch.BatchError, compare.CompareError, design.DesignError,
               ResultsError, ensemble.EnsembleError, goals.GoalError, search.SearchError)
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command-line argument that cannot be used; the message is for the user."""


def _overrides(items: list[str]) -> dict[str, float]:
    """Parse `--set NAME=VALUE` (VALUE a number, or a choice's name for a categorical parameter);
    ranges are checked with the scenario, by `Scenario.with_overrides`."""
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name or not text:
            raise UsageError(f"--set {item!r}: write NAME=VALUE, e.g. --set arms_interdiction=0.3")
        choices = PARAMS[name].choices if name in PARAMS else ()
        if text in choices:
            out[name] = float(choices.index(text))
            continue
        try:
            out[name] = float(text)
        except ValueError:
            allowed = f" or one of {', '.join(choices)}" if choices else ""
            raise UsageError(f"--set {name}: '{text}' is not a number{allowed}") from None
    return out


def _plan(files: list[str], replicates: int, seed: int | None, sets: list[str],
          draws: ensemble.Ensemble | None) -> batch.Plan:
    # Unknown or out-of-range overrides are reported by `Scenario.with_overrides`, as a
    # ScenarioError that `main` prints like any other mistake in a scenario.
    return batch.Plan.from_files(files, replicates, seed, _overrides(sets), draws)


def _say_parameters(plan: batch.Plan, note: str | None) -> None:
    """How the replicates treated the calibrated parameters."""
    draws = plan.ensemble
    if note:
        print(f"note: {note}", file=sys.stderr)
    else:
        print(f"parameters: {ensemble.summary(ensemble.describe(draws))}")
    if draws is not None and plan.replicates > len(draws):
        print(f"note: {plan.replicates} replicates but {len(draws)} posterior draws: replicate "
              f"i uses draw i mod {len(draws)}, so draws repeat (with other seeds)",
              file=sys.stderr)


# ---------------------------------------------------------------------------- run
def cmd_run(args) -> int:
    draws, note = ensemble.choose(args.point, args.posterior)
    if args.draw is not None:
        if draws is None:
            raise UsageError("--draw picks a posterior draw; it cannot go with point mode")
        draws = draws.starting_at(args.draw)
    plan = _plan([args.scenario], 1, args.seed, args.set, draws)
    label, resolved = plan.scenarios[0]
    out = Path(args.out or Path("runs") / label)
    results = ResultsDir(out)
    with results.lock():
        recording = batch.Recording(results, plan, "run")
        bar = DaysBar(resolved.days, label)
        try:
            [output] = engine.run(plan.scenarios, plan.seed(0), ensemble=plan.ensemble,
                                  progress=bar)
        finally:
            bar.close()
        recording.add([output])
        recording.close()
    if not output.ok:
        print(f"the run failed inside the model (a bug, please report it):\n{output.traceback}",
              file=sys.stderr)
        return 1
    branch = f", branch {resolved.branch}" if resolved.branch else ""
    at = "point mode" if draws is None else f"posterior draw {draws.number(0)} of {len(draws)}"
    title = (f"{resolved.name} ({args.scenario}), seed {plan.seed(0)}, {at}, "
             f"{resolved.start} to {resolved.end}{branch}")
    print(compare.yearly_table(output, title).render())
    print(f"\nResults: {out}/ (compare with: haiti-sim compare {out})")
    if note:
        print(f"note: {note}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------- batch
def cmd_batch(args) -> int:
    results = ResultsDir(args.out)
    files, replicates, seed, sets = args.scenarios, args.replicates, args.seed, args.set
    if args.resume:
        # Anything not given again comes from the batch's manifest; anything given must agree.
        try:
            plan = results.read_manifest()["plan"]
        except FileNotFoundError:
            raise UsageError(f"{args.out} holds no batch to resume (no manifest.json)") from None
        files = files or [s["files"][-1]["path"] for s in plan["scenarios"]]
        replicates = replicates or plan["replicates"]
        seed = plan["base_seed"] if seed is None else seed
        if not sets:
            sets = [f"{k}={v!r}" for k, v in plan["overrides"].items()]
        _resumed_mode(args, plan)
    elif not files or replicates is None:
        raise UsageError("give the scenario files and --replicates N (or --resume)")
    draws, note = ensemble.choose(args.point, args.posterior)
    return _execute(_plan(files, replicates, seed, sets, draws), args, "batch", note)


def _execute(plan: batch.Plan, args, command: str, note: str | None) -> int:
    """Run `plan` into --out and report how it went."""
    results = ResultsDir(args.out)
    started = time.perf_counter()
    manifest = batch.run_batch(plan, args.out, workers=args.workers, scheduler=args.scheduler,
                               resume=args.resume, command=command)
    runs = manifest["runs"]
    failed = runs.having("failed")
    print(f"{len(runs) - len(failed)} of {len(runs)} runs done in "
          f"{time.perf_counter() - started:.0f} s; results in {args.out}/")
    _say_parameters(plan, note)
    for run in failed[:5]:
        print(f"failed: {run['scenario']} replicate {run['replicate']}: {run['error']}",
              file=sys.stderr)
    if failed:
        print(f"{len(failed)} runs failed; their errors and tracebacks are in "
              f"{results.manifest_path}; --resume retries them", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------------------- experiment
def _factors(items: list[str], method: str, option: str = "--vary") -> tuple[list, dict]:
    """Parse --vary NAME, NAME=LOW:HIGH or NAME=V1,V2,...: (factors, explicit grid values);
    `option` names the option in messages (sweep's is --lever)."""
    factors, values = [], {}
    for item in items:
        name, sep, text = (part.strip() for part in item.partition("="))
        if not sep:
            factors.append(design.Factor.of(name))
        elif ":" in text:
            low, _, high = text.partition(":")
            try:
                bounds = float(low), float(high)
            except ValueError:
                raise UsageError(f"{option} {item!r}: write NAME, NAME=LOW:HIGH or "
                                 "NAME=V1,V2,... with numbers") from None
            factors.append(design.Factor.of(name, *bounds))
        elif method != "grid":
            raise UsageError(f"{option} {item}: a list of values needs --design grid; give "
                             "NAME=LOW:HIGH for a sampled design")
        else:
            try:  # numbers, or a categorical parameter's choice names, as --set takes them
                values[name] = [_overrides([f"{name}={v}"])[name] for v in text.split(",")]
            except UsageError as exc:
                raise UsageError(f"{option} {item!r}: {str(exc).partition(': ')[2]}") from None
    return factors, values


def _design(args, seed: int, option: str = "--vary") -> design.Design:
    factors, values = _factors(args.vary, args.design, option)
    if args.uncertainties:
        varied = {f.name for f in factors} | set(values)
        factors += [f for f in design.uncertainties() if f.name not in varied]
    if args.design == "grid":
        return design.grid({**{f.name: design.levels(f, args.levels) for f in factors},
                            **values})
    if args.samples is None:
        raise UsageError(f"--design {args.design} needs --samples N")
    sampler = design.latin_hypercube if args.design == "lhs" else design.sobol
    return sampler(factors, args.samples, seed)


def cmd_experiment(args) -> int:
    if not args.replicates:
        raise UsageError("give --replicates N")
    seed = scenario.load(args.scenarios[0]).seed if args.seed is None else args.seed
    draws, note = ensemble.choose(args.point, args.posterior)
    plan = batch.Plan.experiment(args.scenarios, _design(args, seed), args.replicates, seed,
                                 _overrides(args.set), draws)
    print(f"{len(plan.design.points)} points x {len(args.scenarios)} scenarios x "
          f"{args.replicates} replicates = {len(plan.scenarios) * args.replicates} runs",
          file=sys.stderr)
    return _execute(plan, args, "experiment", note)


# ---------------------------------------------------------------------------- compare
def _dates(text: str | None) -> list[dt.date] | None:
    if not text:
        return None
    try:
        return [dt.date.fromisoformat(d.strip()) for d in text.split(",") if d.strip()]
    except ValueError:
        raise UsageError(f"--dates: '{text}' is not a comma-separated list of dates like "
                         "2026-12-31,2027-12-31") from None


def cmd_compare(args) -> int:
    result = compare.compare(args.directories, args.reference, _dates(args.dates),
                             args.threshold)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(compare.header(result))
    for table in compare.tables(result):
        print()
        print(table.render())
    if args.csv:
        compare.write_csv(result, args.csv)
        print(f"\nCSV: {args.csv}")
    if args.html:
        report.write_html(result, args.html)
        print(f"HTML report: {args.html}")
    return 0


# ---------------------------------------------------------------------------- sweep
def cmd_sweep(args) -> int:
    if not args.lever:
        raise UsageError("give at least one --lever NAME=V1,V2,... (or NAME=LOW:HIGH)")
    if not args.replicates and not args.resume:
        raise UsageError("give --replicates N")
    seed = scenario.load(args.scenario).seed if args.seed is None else args.seed
    args.vary, args.uncertainties = args.lever, False
    if args.resume and not args.replicates:
        try:
            args.replicates = ResultsDir(args.out).read_manifest()["plan"]["replicates"]
        except FileNotFoundError:
            raise UsageError(f"{args.out} holds no sweep to resume (no manifest.json)") from None
    if args.resume:
        _resumed_mode(args, ResultsDir(args.out).read_manifest()["plan"])
    draws, note = ensemble.choose(args.point, args.posterior)
    plan = batch.Plan.experiment([args.scenario], _design(args, seed, "--lever"),
                                 args.replicates, seed, _overrides(args.set), draws)
    print(f"{len(plan.design.points)} points x {args.replicates} replicates = "
          f"{len(plan.scenarios) * args.replicates} runs", file=sys.stderr)
    status = _execute(plan, args, "sweep", note)
    result = sweep.dose_response(args.out, args.at)
    if result.parameters:
        print(f"Parameters: {result.parameters}.")
    title = f"Dose-response: {plan.scenarios[0][1].name} ({args.scenario})"
    _report(args.out, result.notes, sweep.tables(result), [],
            {"sweep.csv": sweep.csv_text(result), "sweep.html": report.sweep_html(result, title)})
    return status


def _report(out: str, notes: list[str], tables: list[compare.TextTable], lines: list[str],
            files: dict[str, str]) -> None:
    """An analysis's ending: its notes (to stderr), tables and closing lines, then its files
    (name: text) written into `out`, and where they are."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for block in [*(t.render() for t in tables), "\n".join(lines)]:
        if block:
            print()
            print(block)
    for name, text in files.items():
        (Path(out) / name).write_text(text, encoding="utf-8", newline="")
    kinds = {"CSV": ".csv", "chart": ".html"}
    print("\n" + "; ".join(
        f"{kind}: " + ", ".join(str(Path(out) / n) for n in files if n.endswith(suffix))
        for kind, suffix in kinds.items() if any(n.endswith(suffix) for n in files)))


def _add_sweep(sub, fmt) -> None:
    swp = sub.add_parser(
        "sweep", formatter_class=fmt,
        help="the key outcomes against the values of one or more levers (dose-response)",
        description=_wrap(
            "Run one scenario over a design of lever values (every combination of the "
            "values given, or a Latin hypercube over ranges), each point N times, then show "
            "how each key outcome moves with them: median and 90% interval per point, as "
            "tables, sweep.csv and sweep.html (one chart per outcome against the first lever, "
            "a curve per combination of the others).\n\n"
            "An experiment underneath (same results layout, 'haiti-sim compare' reads it): "
            "replicate i of every point runs with seed BASE + i, the points share their "
            "history, and an interrupted sweep completes with --resume (give the same "
            "--lever options)."))
    swp.add_argument("scenario", metavar="SCENARIO.yaml")
    swp.add_argument("--lever", action="append", default=[],
                     metavar="NAME=V1,V2,...|NAME=LOW:HIGH",
                     help="a lever (or any parameter) and its values (grid) or range "
                          "(repeatable)")
    swp.add_argument("--design", choices=("grid", "lhs"), default="grid",
                     help="grid: every combination (default); lhs: a Latin hypercube over "
                          "the ranges (needs --samples)")
    swp.add_argument("--samples", type=int, metavar="N", help="points of a Latin hypercube")
    swp.add_argument("--levels", type=int, default=5, metavar="K",
                     help="values of each ranged lever in a grid (default 5)")
    swp.add_argument("--at", type=_date, metavar="DATE",
                     help="the date the outcomes are read on (default: each run's last day)")
    _batch_options(swp)
    swp.set_defaults(func=cmd_sweep)


# ---------------------------------------------------------------------------- sensitivity, discover
def _varied(args) -> list[design.Factor]:
    """The factors of --vary NAME[=LOW:HIGH], --uncertainties and --levers (default: every
    uncertainty); a parameter named twice keeps its --vary range."""
    for item in args.vary:
        _, sep, text = item.partition("=")
        if sep and ":" not in text:
            raise UsageError(f"--vary {item!r}: give NAME (its plausible or validity range) or "
                             "NAME=LOW:HIGH; these designs sample ranges, not lists of values")
    factors, _ = _factors(args.vary, "sampled")
    everything = args.uncertainties or not (args.vary or args.levers)
    for group in ((design.uncertainties() if everything else [])
                  + (design.levers() if args.levers else [])):
        if group.name not in {f.name for f in factors}:
            factors.append(group)
    return factors


def _explore_plan(args, command: str, make_design, end: dt.date | None
                  ) -> tuple[batch.Plan, str | None]:
    """The experiment under a sensitivity or discovery: its seed, replicates and parameter mode
    from the options, or on --resume from the manifest where not given."""
    if args.resume:
        try:
            plan = ResultsDir(args.out).read_manifest()["plan"]
        except FileNotFoundError:
            raise UsageError(f"{args.out} holds no {command} to resume (no manifest.json)"
                             ) from None
        args.replicates = args.replicates or plan["replicates"]
        args.seed = plan["base_seed"] if args.seed is None else args.seed
        if not args.ensemble:
            _resumed_mode(args, plan)
    args.replicates = args.replicates or 1
    seed = scenario.load(args.scenario).seed if args.seed is None else args.seed
    draws, note = ensemble.choose(not (args.ensemble or args.posterior), args.posterior)
    plan = batch.Plan.experiment([args.scenario], make_design(_varied(args), seed),
                                 args.replicates, seed, _overrides(args.set), draws, end)
    print(f"{len(plan.design.factors)} parameters varied: {len(plan.design.points)} points x "
          f"{args.replicates} replicates = {len(plan.scenarios) * args.replicates} runs",
          file=sys.stderr)
    return plan, note


def _outcome_names(text: str | None) -> list[str] | None:
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        goals.outcome(name, "--outcomes")
    if len(set(names)) < len(names):
        raise UsageError(f"--outcomes {text}: an outcome is named twice")
    return names


def cmd_sensitivity(args) -> int:
    names = _outcome_names(args.outcomes)
    morris = args.method == sensitivity.MORRIS
    given = [o for o, v in (("--trajectories", args.trajectories), ("--levels", args.levels),
                            ("--samples", args.samples)) if v is not None]
    wrong = [o for o in given if (o == "--samples") == morris]
    if wrong:
        other = "sobol" if morris else "morris"
        raise UsageError(f"{wrong[0]} goes with --method {other}, not --method {args.method}")

    def make(factors, seed):
        if morris:
            return design.morris(factors, args.trajectories or sensitivity.TRAJECTORIES,
                                 args.levels or sensitivity.LEVELS, seed)
        return design.saltelli(factors, args.samples or sensitivity.BASE_SAMPLES, seed)

    plan, note = _explore_plan(args, "sensitivity", make, args.until)
    status = _execute(plan, args, "sensitivity", note)
    result = sensitivity.analyse(args.out, names, plan.base_seed)
    title = (f"Sensitivity ({'Morris' if morris else 'Sobol'}): {plan.scenarios[0][1].name} "
             f"({args.scenario})")
    _report(args.out, result.notes, sensitivity.tables(result, args.top), [],
            {"sensitivity.csv": sensitivity.csv_text(result),
             "sensitivity.html": report.sensitivity_html(result, title, args.top)})
    return status


def cmd_discover(args) -> int:
    goal, _ = _goal(args)
    if not 0 < args.density <= 1:
        raise UsageError(f"--density {args.density:g}: give a share between 0 and 1, e.g. 0.8")
    plan, note = _explore_plan(
        args, "discovery",
        lambda factors, seed: design.latin_hypercube(factors, args.samples, seed), goal.by)
    status = _execute(plan, args, "discover", note)
    found = discover.discover(args.out, goal, args.cases, args.density)
    lines = discover.summary(found)
    title = f"Scenario discovery: {plan.scenarios[0][1].name} ({args.scenario})"
    _report(args.out, found.notes, [discover.table(found)], lines, {
        "discover.csv": compare.records_csv(discover.trajectory_records(found),
                                            discover.TRAJECTORY_FIELDS),
        "boxes.csv": compare.records_csv(discover.box_records(found), discover.BOX_FIELDS),
        "discover.html": report.discover_html(found, title, lines)})
    return status


def _explore_options(parser: argparse.ArgumentParser) -> None:
    """What sensitivity and discover vary, and the options of their experiment."""
    parser.add_argument("scenario", metavar="SCENARIO.yaml")
    parser.add_argument("--vary", action="append", default=[], metavar="NAME[=LOW:HIGH]",
                        help="a parameter to vary (repeatable): over its plausible range (an "
                             "uncertainty), its validity range (a lever), or LOW:HIGH")
    parser.add_argument("--uncertainties", action="store_true",
                        help="vary every uncertain parameter over its plausible range (the "
                             "default when neither --vary nor --levers is given)")
    parser.add_argument("--levers", action="store_true",
                        help="vary every lever over its validity range (the mandate over its "
                             "choices' indices)")
    _batch_options(parser, explore=True)


def _add_sensitivity(sub, fmt) -> None:
    sen = sub.add_parser(
        "sensitivity", formatter_class=fmt,
        help="which parameters move the key outcomes most (Morris or Sobol, by SALib)",
        description=_wrap(
            "Global sensitivity analysis of one scenario: run it over SALib's design for "
            "the method (Morris: r trajectories of k + 1 points, one parameter moved a step "
            "at a time; Sobol: Saltelli's N x (k + 2) points) over every uncertainty's "
            "plausible range (or the parameters of --vary, --levers), then rank the "
            "parameters by their influence on each outcome on the runs' last day: Morris's "
            "mu* (the mean absolute change when a parameter moves across its range) and "
            "sigma (non-linearity, interactions); Sobol's total (ST) and first-order (S1) "
            "shares of the variance. Each with the half-width of its bootstrap 90% interval. "
            "Prints the top parameters per outcome and writes sensitivity.csv and "
            "sensitivity.html (bars with whiskers) to --out.\n\n"
            "An experiment underneath (same results layout; resumable with --resume, on Dask "
            "with --scheduler). Every point runs with seed BASE + i for replicate i (common "
            "random numbers: between points only the parameters differ), and in point mode "
            "by default: the design's values win over posterior draws, and what it does not "
            "vary stays at the defaults, so an effect is the parameter's, not the draw's. "
            "Morris over the 81 uncertainties with the default 10 trajectories is 820 runs, "
            "about 6 minutes on 2 cores to the scenario's end (2027); --until shortens the "
            "runs.\n\n"
            "examples:\n"
            "  haiti-sim sensitivity scenarios/status_quo.yaml --out runs/morris\n"
            "  haiti-sim sensitivity scenarios/status_quo.yaml --method sobol --samples 32 \\\n"
            "      --vary gang_attack_rate --vary reversion_per_day --vary arms_interdiction \\\n"
            "      --outcomes capital_gang_share_area,killed --out runs/sobol"))
    _explore_options(sen)
    sen.add_argument("--method", choices=sensitivity.METHODS, default=sensitivity.MORRIS,
                     help="morris: elementary effects, a screening of many parameters (default);"
                          " sobol: variance-based indices, many more runs")
    sen.add_argument("--trajectories", type=int, metavar="R",
                     help=f"Morris trajectories (default {sensitivity.TRAJECTORIES}): "
                          "R x (k + 1) runs")
    sen.add_argument("--levels", type=int, metavar="P",
                     help=f"Morris grid levels per parameter, even (default {sensitivity.LEVELS})")
    sen.add_argument("--samples", type=int, metavar="N",
                     help="Sobol base sample, rounded up to a power of two (default "
                          f"{sensitivity.BASE_SAMPLES}): N x (k + 2) runs")
    sen.add_argument("--outcomes", metavar="NAME,NAME",
                     help="outcomes of the catalogue to analyse (default: the key outcomes, "
                          "as compare shows them)")
    sen.add_argument("--until", type=_date, metavar="DATE",
                     help="stop the runs on DATE (default: the scenario's end; not before a "
                          "policy's branch); the outcomes are read on the last day")
    sen.add_argument("--top", type=int, default=sensitivity.TOP, metavar="K",
                     help=f"parameters shown per outcome (default {sensitivity.TOP})")
    sen.set_defaults(func=cmd_sensitivity)


def _add_discover(sub, fmt) -> None:
    dis = sub.add_parser(
        "discover", formatter_class=fmt,
        help="in which ranges of the parameters a policy fails its goal (PRIM)",
        description=_wrap(
            "Scenario discovery: run one scenario over a Latin hypercube of every "
            "uncertainty's plausible range (or the parameters of --vary, --levers) up to the "
            "goal's date, judge every run against the goal (as 'haiti-sim target' does), and "
            "find with PRIM (peeling and pasting, Friedman and Fisher 1999) the box of "
            "parameter values where the runs that fail it (--cases succeed: that meet it) "
            "concentrate. Prints 'the policy fails (goal not met) when A > x and B < y' with "
            "the box's coverage (share of all failures inside it), density (share of runs "
            "inside it that fail) and mass, and each limit's quasi-p-value (above 0.05 the "
            "restriction is not significant). The box chosen has the most coverage at a "
            "density of at least --density. Writes discover.csv (every step of PRIM: "
            "coverage, density, mass, restricted parameters), boxes.csv (the box's limits) and "
            "discover.html (the trade-off and the limits) to --out.\n\n"
            "An experiment underneath (resumable with --resume, which with every run done "
            "only reads them again: a new goal with the same --by needs no new runs; on Dask "
            "with --scheduler); point mode by default, as for sensitivity.\n\n"
            "example:\n"
            "  haiti-sim discover scenarios/gsf_full.yaml --metric capital_gang_share_area \\\n"
            "      --below 0.5 --by 2027-12-31 --samples 300 --out runs/discover"))
    _explore_options(dis)
    _goal_options(dis)
    dis.add_argument("--cases", choices=discover.CASES, default=discover.FAIL,
                     help="which runs PRIM looks for: those that fail the goal (default) or "
                          "meet it")
    dis.add_argument("--samples", type=int, default=discover.SAMPLES, metavar="N",
                     help=f"points of the Latin hypercube (default {discover.SAMPLES})")
    dis.add_argument("--density", type=float, default=discover.MIN_DENSITY, metavar="D",
                     help="the least density of the box chosen: the one with the most "
                          f"coverage among them (default {discover.MIN_DENSITY})")
    dis.set_defaults(func=cmd_discover)


# ---------------------------------------------------------------------------- target
def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2027-12-31") from None


def _line(args, factor: design.Factor) -> search.Line:
    """The lever searched over the range of `factor`, with the levers of --with NAME=A:B (A at
    --low, B at --high) or NAME=PER_UNIT (PER_UNIT times the lever's value)."""
    follow: dict[str, tuple[float, float]] = {}
    for item in args.with_:
        name, sep, text = (part.strip() for part in item.partition("="))
        try:
            if not sep or not name:
                raise ValueError
            if ":" in text:
                at_low, _, at_high = text.partition(":")
                ends = float(at_low), float(at_high)
            else:
                per_unit = float(text)
                ends = per_unit * factor.low, per_unit * factor.high
        except ValueError:
            raise UsageError(f"--with {item!r}: write NAME=A:B (A at --low, B at --high) or "
                             "NAME=PER_UNIT (that times the lever's value), with numbers, e.g. "
                             "--with funding_mission_others=280000") from None
        if name in follow:
            raise UsageError(f"--with {name} is given twice")
        if name in _overrides(args.set):
            raise UsageError(f"--with {name} and --set {name}: the line sets it; drop one")
        follow[name] = ends
    return search.line(factor.name, factor.low, factor.high, follow)


def _resumed_target(args, out: Path) -> None:
    """On --resume, the seed, --set, --replicates and parameter mode not given again are the
    search's own (from its manifest), as a resumed batch takes them; the rest must be given
    the same, which `levels.line_runs` checks."""
    try:
        manifest = ResultsDir(out).read_manifest()
    except FileNotFoundError:
        return  # line_runs refuses, naming the directory
    plan, asked = manifest["plan"], manifest.get("search", {})
    args.seed = plan["base_seed"] if args.seed is None else args.seed
    if not args.set:
        args.set = [f"{k}={v!r}" for k, v in plan["overrides"].items()]
    args.replicates = args.replicates or asked.get("--replicates")
    _resumed_mode(args, plan)


def cmd_target(args) -> int:
    param = search.lever(args.lever)
    if not 0 < args.probability < 1:
        raise UsageError(f"--probability {args.probability:g}: give a chance between 0 and 1, "
                         "e.g. 0.8")
    if not 0 < args.precision < 0.5:
        raise UsageError(f"--precision {args.precision:g}: give the half-width wanted as a "
                         "share, e.g. 0.05 for +-5 points")
    label = Path(args.scenario).stem
    out = Path(args.out or Path("runs") / f"{label}.target.{param.name}")
    args.out = str(out)  # for the hint on Ctrl-C
    if args.resume:
        _resumed_target(args, out)
    factor = design.Factor.of(param.name, args.low, args.high)
    line = _line(args, factor)
    goal, resolved = _goal(args)
    seed = resolved.seed if args.seed is None else args.seed
    settings = search.Settings(max_replicates=args.replicates or search.Settings.max_replicates,
                               precision=args.precision, integer=param.integer, seed=seed)
    caps = search.lever_notes(resolved, line)
    for note in caps:
        print(f"note: {note}", file=sys.stderr)
    draws, note = ensemble.choose(args.point, args.posterior)
    if note:
        print(f"note: {note}", file=sys.stderr)
    overrides = _overrides(args.set)

    def plan_of(values: list[float], replicates: int) -> batch.Plan:
        # Nothing after the goal's date can change whether it is met: the runs stop there.
        return batch.Plan.experiment([args.scenario], line.design(values), replicates, seed,
                                     overrides, draws, goal.by)

    question = {"--lever": param.name, "--low": factor.low, "--high": factor.high,
                "--with": [f"{name}={a:.10g}:{b:.10g}" for name, a, b in line.follow],
                "the goal": goal.to_dict(),
                "--probability": args.probability, "--precision": args.precision,
                "--replicates": settings.max_replicates}
    bar = SearchBar(f"{label}: {param.name}")

    def on_round(round_: int, est: search.Estimate) -> None:
        c = est.curve
        bar.note(f"round {round_}: {c.status}" + (
            f" near {search.show_level(c.answer, param.integer)}" if c.answer is not None
            else ""))

    started = time.perf_counter()
    try:
        with levels.line_runs(plan_of, out, search.MeetsGoal(goal, resolved.branch
                                                             or resolved.start),
                              goal.outcome.metrics, question, bar, resume=args.resume,
                              workers=args.workers, scheduler=args.scheduler) as evaluate:
            result = search.search(evaluate, factor.low, factor.high, args.probability,
                                   settings, on_round)
    except levels.RunFailed as exc:
        print(f"a run failed inside the model (a bug, please report it): {exc}",
              file=sys.stderr)
        return 1
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    lines, answer = search.summary(result, param, goal, args.precision, line)
    if caps and result.status == search.NOT_REACHED:  # say it where the answer is read
        lines.append(f"note: {param.name} is capped (the notes at the start): values beyond the "
                     "cap deploy nothing more, so this is 'not reached within the cap'")
    table = search.table(result, param.name, param.integer, line)
    title = f"What does it take: {resolved.name} ({args.scenario})"
    write_json({"command": "target", "scenario": {
        "file": str(Path(args.scenario).resolve()), "label": label, "name": resolved.name,
        "start": resolved.start, "branch": resolved.branch, "simulated_to": goal.by},
        "lever": {"name": param.name, "unit": param.unit, "low": factor.low,
                  "high": factor.high},
        "goal": goal.to_dict(), "overrides": overrides, "base_seed": seed,
        "seed_rule": batch.SEED_RULE, "precision": args.precision, "seconds": round(seconds, 1),
        "runs_this_session": evaluate.ran, "package_version": package_version(),
        **search.to_dict(result, line)}, out / "target.json")
    (out / "target.html").write_text(
        report.target_html(result, title, [*lines, answer], table, param.integer, param.name),
        encoding="utf-8")
    print(table.render())
    print()
    for text in lines:
        print(text)
    read = (f", {result.runs - evaluate.ran} of them read from the runs on disk"
            if evaluate.ran < result.runs else "")
    print(f"{result.runs} runs{read} ({max(pt.n for pt in result.points)} replicates at most "
          f"per value, {result.rounds} round{'s' if result.rounds > 1 else ''}) in "
          f"{seconds:.0f} s; results in {out}/ (haiti-sim compare reads them), "
          f"{out / 'target.json'}, {out / 'target.html'}")
    print(answer)
    return 0


def _goal(args) -> tuple[goals.Goal, scenario.Scenario]:
    """The goal of --metric, --below/--above, --by and --sustained-days/--ever, checked against
    the scenario (with its --set) that will be run: (goal, scenario)."""
    goal = goals.Goal.of(args.metric, args.below if args.above is None else args.above,
                         args.by, args.above is None, args.sustained_days, args.ever)
    resolved = scenario.load(args.scenario).with_overrides(_overrides(args.set))
    goal.check(resolved.start, resolved.end, resolved.branch)
    return goal, resolved


# ---------------------------------------------------------------------------- validate, params
def cmd_validate(args) -> int:
    bad = 0
    for path in args.files:
        try:
            s = scenario.load(path)
        except ScenarioError as exc:
            bad += 1
            print("BAD " + str(exc).replace("\n", "\n    "))  # one file's lines under it
            continue
        branch = f", branch {s.branch}" if s.branch else ""
        print(f"OK  {path}: {s.name} ({s.start} to {s.end}{branch}, {len(s.events)} events)")
    return 1 if bad else 0


def _range(p) -> str:
    if p.choices:
        return ", ".join(f"{i}={c}" for i, c in enumerate(p.choices))
    return f"{p.low:g} to {p.high:g}"


def _plausible(p) -> str:
    if p.plausible is None:
        return ""
    low, high = p.plausible
    return f"{low:g} to {high:g}" + (" (log)" if p.prior == "log-uniform" else "")


def cmd_params(args) -> int:
    roles = set(args.role or ROLES)
    shown = [p for p in PARAMS.values()
             if (args.group is None or p.group == args.group) and p.role in roles]
    rows = [[p.name, p.role, f"{p.default:g}", _range(p), _plausible(p), p.unit, p.source]
            for p in shown]
    if args.why:
        rows = [[p.name, p.role, _plausible(p), p.why] for p in shown if p.plausible]
    headers = (["name", "role", "plausible", "why plausible"] if args.why else
               ["name", "role", "default", "valid range", "plausible", "unit", "source"])
    table = compare.TextTable("", headers, rows, align="l" * len(headers))
    print(table.render().lstrip("\n"))
    return 0


# ---------------------------------------------------------------------------- parser
def cmd_calibrate(args) -> int:
    """ABC-SMC on the record through 2024; writes the posterior and its report into --out."""
    from sim.calibration import abc, fit, posterior
    from sim.calibration import report as calibration_report
    from sim.calibration.problem import Problem

    if args.draws < 1:
        raise UsageError(f"--draws {args.draws}: give at least 1 posterior draw to write "
                         "(the package ships 256)")
    if args.budget < 10 * args.particles:
        raise UsageError(f"--budget {args.budget:,} is too small for {args.particles} particles: "
                         f"give at least {10 * args.particles:,} simulations")
    try:
        settings = abc.Settings(particles=args.particles, seed=args.seed)
        problem = Problem.of(args.scenario)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        summary = fit.calibrate(problem, args.out, settings, args.budget, workers=args.workers,
                                scheduler=args.scheduler, resume=args.resume)
    except (FileExistsError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    generations = abc.Store(args.out).generations()
    if len(generations) < 2:
        raise UsageError(f"the budget ended before the first SMC generation; raise --budget "
                         f"and continue with --resume --out {args.out}")
    found = posterior.write(args.out, problem, generations, settings, args.draws)
    path = calibration_report.write(args.out, problem, generations, found)
    last = generations[-1]
    print(f"{summary['simulations']:,} simulations in {len(generations)} generations "
          f"({summary['seconds_this_session']:.0f} s this session); final epsilon "
          f"{last.epsilon:.1f}, acceptance {last.acceptance:.1%}, ESS {last.ess:.0f} of "
          f"{len(last.weights)}")
    identified = [m.name for m in found if m.identified]
    print(f"{len(identified)} of {len(found)} parameters narrowed by the record: "
          f"{', '.join(identified) or 'none'}")
    print(f"posterior ({args.draws} draws) and report in {args.out}/ ({Path(path).name})")
    return 0


EPILOG = """examples:
  haiti-sim validate scenarios/*.yaml
  haiti-sim run scenarios/status_quo.yaml --set arms_interdiction=0.3
  haiti-sim batch scenarios/status_quo.yaml scenarios/police_surge.yaml -n 100 --out runs/b1
  haiti-sim batch scenarios/status_quo.yaml -n 20 --point --out runs/p1   # at the defaults
  haiti-sim compare runs/b1 --reference status_quo --html report.html --csv summary.csv
  haiti-sim experiment scenarios/gsf_full.yaml --vary mission_troops_target=1000:20000 \
      --uncertainties --design lhs --samples 200 -n 1 --out runs/e1
  haiti-sim sweep scenarios/status_quo.yaml --lever arms_interdiction=0.1,0.3,0.5 -n 20 \
      --out runs/s1
  haiti-sim target scenarios/gsf_full.yaml --lever mission_troops_target \
      --set mission_troop_ceiling=20000 --set funding_mission_others=2000000000 \
      --metric capital_gang_share_area --below 0.5 --by 2027-12-31 --probability 0.8
  haiti-sim sensitivity scenarios/status_quo.yaml --method morris --out runs/morris
  haiti-sim discover scenarios/gsf_full.yaml --metric capital_gang_share_area --below 0.5 \
      --by 2027-12-31 --out runs/discover
"""

POSTERIOR_HELP = ("the posterior draws to run under (default: the shipped "
                  "sim/data/calibration/posterior.csv; while none is shipped, point mode, "
                  "with a note)")

SET_HELP = ("change a parameter, e.g. --set arms_interdiction=0.3 (repeatable; 'haiti-sim "
            "params' lists names and ranges): in a policy scenario from its branch date, so "
            "the shared history is untouched; in a scenario without a branch, from the start")


def _seed(text: str) -> int:
    """--seed: the same whole numbers, in the same range, as a scenario file's `seed:`."""
    try:
        return scenario.check_seed(text, "--seed")
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _resumed_mode(args, plan: dict) -> None:
    """A resume without --point or --posterior runs as the manifest's plan did."""
    described = plan.get("ensemble", ensemble.POINT)
    if not args.point and args.posterior is None:
        args.point = described["mode"] != "ensemble"
        args.posterior = None if args.point else described["posterior"]


def _parameter_options(parser: argparse.ArgumentParser, explore: bool = False) -> None:
    """--point and --posterior: the options of every command that runs the model; with
    `explore` (sensitivity, discover), point mode is the default and --ensemble opts out."""
    group = parser.add_mutually_exclusive_group()
    if not explore:
        group.add_argument("--point", action="store_true", help=ensemble.POINT_HELP)
        group.add_argument("--posterior", metavar="FILE.csv", help=POSTERIOR_HELP)
        return
    group.add_argument("--point", action="store_true",
                       help="the parameters the design does not vary stay at the defaults, the "
                            "posterior medians (the default: everything that varies is then in "
                            "the design, where the analysis sees it)")
    group.add_argument("--ensemble", action="store_true",
                       help="replicate i runs under posterior draw i for the calibrated "
                            "parameters the design does not vary (their spread adds to the "
                            "dice's)")
    group.add_argument("--posterior", metavar="FILE.csv",
                       help="as --ensemble, with the draws of this file")


def _batch_options(parser: argparse.ArgumentParser, explore: bool = False) -> None:
    """The options of every command that runs many replicates (batch, experiment, sweep; with
    `explore`, sensitivity and discover: one replicate by default, point mode by default)."""
    parser.add_argument("--replicates", "-n", type=int, metavar="N",
                        help="runs of each scenario (each point), at most "
                             f"{batch.MAX_REPLICATES:,} " + (
                                 "(default 1; with --resume, the manifest's)" if explore
                                 else "(required unless --resume)"))
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="results directory (one batch at a time writes into it)")
    parser.add_argument("--workers", type=int, metavar="K",
                        help=f"local worker processes, at most the {batch.default_workers()} "
                             "cores (default: all; more are capped, with a note; 1 runs in "
                             "this process)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786",
                        help="run on this Dask scheduler instead of local processes (needs "
                             "'pip install haiti-sim[dask]' here and on the workers); same "
                             "results")
    parser.add_argument("--seed", type=_seed, metavar="BASE",
                        help="base seed (default: the first scenario's seed)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help=SET_HELP)
    parser.add_argument("--resume", action="store_true",
                        help="complete an interrupted run in --out: run only what is missing or "
                             "failed; refuses if the scenario files, the design, the posterior "
                             "or the model changed")
    _parameter_options(parser, explore)


def _wrap(text: str) -> str:
    """Paragraphs filled to the terminal's usual width; a paragraph of examples (lines after
    its first indented) is kept line by line, as the raw formatter prints it."""
    return "\n\n".join(p if "\n " in p else textwrap.fill(p, 79) for p in text.split("\n\n"))


def posterior_draws() -> int:
    from sim.calibration.posterior import DRAWS

    return DRAWS


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="haiti-sim", formatter_class=fmt, epilog=EPILOG,
        description=_wrap(
            "Agent-based simulator of Haiti's gang crisis: run policy scenarios, many "
            "times, and compare them.\n\n"
            "Parameter uncertainty is included by default: replicate i of every scenario "
            "runs with seed BASE + i and under draw i of the calibration's posterior "
            "ensemble (parameter sets that reproduce the 2023-2024 record), so bands, "
            "intervals and chances show what is not known about the model's parameters, "
            "not only the dice, and scenarios stay paired. Values a scenario or --set "
            "gives are kept. --point runs every replicate at the posterior median (the "
            "parameter defaults) instead."))
    parser.add_argument("--version", action="version", version=f"haiti-sim {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, title="commands",
                                metavar="COMMAND")

    run = sub.add_parser(
        "run", formatter_class=fmt, help="run one scenario once and print a yearly summary",
        description=_wrap(
            "Run one replicate of a scenario, print its key outcomes per year, and "
            "write its daily outcomes (long-form Parquet) and end-of-run control map "
            "to a results directory that 'haiti-sim compare' reads.\n\n"
            "By default the run uses draw 0 of the posterior ensemble (--draw picks "
            "another) for the parameters the scenario does not set; --point runs at the "
            "parameter defaults, the posterior median."))
    run.add_argument("scenario", metavar="SCENARIO.yaml")
    run.add_argument("--seed", type=_seed, help="random seed (default: the scenario's seed); "
                     "replicate i of a batch with base seed S used seed S + i")
    run.add_argument("--out", metavar="DIR",
                     help="results directory (default: runs/<scenario file name>); replaced "
                          "if it holds an earlier run")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=SET_HELP)
    run.add_argument("--draw", type=int, metavar="D",
                     help="posterior draw to run under (default 0); replicate i of a batch used "
                          "draw i, so --seed S --draw i reproduces it")
    _parameter_options(run)
    run.set_defaults(func=cmd_run)

    bat = sub.add_parser(
        "batch", formatter_class=fmt, help="run scenarios many times, in parallel",
        description=_wrap(
            "Run every scenario N times, in parallel on the local cores (or on a Dask "
            "cluster), writing each run as it finishes.\n\n"
            "Replicate i of every scenario runs with seed BASE + i and under draw i of "
            "the posterior ensemble (common random numbers and common parameters), so "
            "paired differences between scenarios come from the policy, not from noise, "
            "and every band and interval includes what is not known about the "
            "parameters, not only the dice (the posterior is the calibration's: "
            "parameter sets that reproduce the 2023-2024 record). A parameter a "
            "scenario or --set gives keeps its value; --point runs every replicate at "
            "the parameter defaults instead. Scenarios that branch from the same "
            "history simulate it once per replicate. Every scenario is checked before "
            "anything runs; a run that fails is recorded in manifest.json and the others "
            "go on; an interrupted batch keeps what finished and --resume completes it."))
    bat.add_argument("scenarios", nargs="*", metavar="SCENARIO.yaml",
                     help="scenario files (labelled by file name; with --resume, default: the "
                          "batch's own)")
    _batch_options(bat)
    bat.set_defaults(func=cmd_batch)

    exp = sub.add_parser(
        "experiment", formatter_class=fmt,
        help="run scenarios over a design of parameter values (grid, Latin hypercube, Sobol)",
        description=_wrap(
            "Run every scenario at every point of a design over the varied parameters, "
            "each point N times. A point's values take effect by their roles: in a policy, "
            "a lever from its branch date, an uncertainty from the start (so points that "
            "vary only levers share their history). Replicate i of every point runs with "
            "seed BASE + i and under posterior draw i (common random numbers across points "
            "and scenarios); a varied parameter keeps the point's value, the other "
            "calibrated ones take the draw's (--point: the defaults).\n\n"
            "Writes experiments.parquet (one row per run: label, scenario, sample, "
            "replicate, seed, draw and every varied value) beside the runs, labelled "
            "<scenario>.s<point>; 'haiti-sim compare' reads them like a batch."))
    exp.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    exp.add_argument("--vary", action="append", default=[], metavar="NAME[=LOW:HIGH|=V1,V2]",
                     help="a parameter to vary (repeatable): over its plausible range "
                          "(uncertainties) or validity range (levers), a range, or (grid) "
                          "values")
    exp.add_argument("--uncertainties", action="store_true",
                     help="also vary every uncertain parameter over its plausible range")
    exp.add_argument("--design", choices=design.METHODS, default="lhs",
                     help="grid: every combination; lhs: Latin hypercube; sobol: scrambled "
                          "Sobol sequence (default lhs)")
    exp.add_argument("--samples", type=int, metavar="N",
                     help="points of a sampled design (sobol rounds up to a power of two)")
    exp.add_argument("--levels", type=int, default=5, metavar="K",
                     help="values of each ranged factor in a grid (default 5)")
    _batch_options(exp)
    exp.set_defaults(func=cmd_experiment)

    _add_target(sub, fmt)
    _add_sweep(sub, fmt)
    _add_sensitivity(sub, fmt)
    _add_discover(sub, fmt)

    cmp_ = sub.add_parser(
        "compare", formatter_class=fmt, help="compare scenarios across replicates",
        description=_wrap(
            "For every scenario and key outcome (gang-held share of Port-au-Prince and "
            "nationally, displaced, killed and money spent since the branch, troops), "
            "at the chosen dates and at the end: the median and 90% interval over "
            "replicates, and the difference to the reference scenario paired by "
            "replicate, with its interval; the chance that gangs hold less than the "
            "threshold of the capital by each date, and that each national road is "
            "open at the end. The spread includes parameter uncertainty where the runs "
            "used the posterior ensemble (the default of run, batch and experiment); a "
            "note says how each directory ran."))
    cmp_.add_argument("directories", nargs="+", metavar="DIR",
                      help="results directories from 'haiti-sim run' or 'haiti-sim batch'")
    cmp_.add_argument("--reference", metavar="NAME",
                      help="scenario label to compare with (default: the first)")
    cmp_.add_argument("--dates", metavar="D1,D2",
                      help="dates to report besides the end, e.g. 2026-12-31,2027-12-31 "
                           "(default: every 31 December from the branch)")
    cmp_.add_argument("--threshold", type=float, default=0.5, metavar="SHARE",
                      help="gang-held share of the capital for the probability (default 0.5)")
    cmp_.add_argument("--html", metavar="FILE",
                      help="write a self-contained HTML report (charts and maps, no network)")
    cmp_.add_argument("--csv", metavar="FILE", help="write the summary as CSV")
    cmp_.set_defaults(func=cmd_compare)

    cal = sub.add_parser(
        "calibrate", formatter_class=fmt,
        help="fit the uncertain parameters to the 2023-2024 record (ABC-SMC)",
        description=_wrap(
            "Approximate Bayesian computation (sequential Monte Carlo) of every uncertain "
            "parameter against the observed record through 2024 (sim.analysis.targets: "
            "the capital's share under gangs, the people under gang control, displacement, "
            "killed and kidnapped per quarter, police, RN1), from priors over the plausible "
            "ranges. Reproducible from --seed on any number of workers, resumable, with a "
            "progress bar. Writes "
            "posterior.csv (equal-weight draws), posterior.json (provenance), "
            "parameters.csv and report.md into --out. 2025 is never seen: the 2025 "
            "projection stays an out-of-sample forecast."))
    cal.add_argument("scenario", nargs="?", default="scenarios/history.yaml",
                     metavar="SCENARIO.yaml",
                     help="the record scenario (default scenarios/history.yaml)")
    cal.add_argument("--out", required=True, metavar="DIR", help="calibration folder")
    cal.add_argument("--budget", type=int, default=6000, metavar="N",
                     help="simulations to spend at most (default 6,000: about 20 minutes on "
                          "2 cores)")
    cal.add_argument("--particles", type=int, default=256, metavar="N",
                     help="population size (default 256)")
    cal.add_argument("--draws", type=int, default=posterior_draws(), metavar="N",
                     help="equal-weight posterior draws to write (default %(default)s)")
    cal.add_argument("--seed", type=_seed, default=1, metavar="S", help="seed (default 1)")
    cal.add_argument("--workers", type=int, metavar="K",
                     help="local worker processes (default: all cores)")
    cal.add_argument("--scheduler", metavar="tcp://HOST:8786",
                     help="run on this Dask scheduler instead (same result)")
    cal.add_argument("--resume", action="store_true",
                     help="continue the calibration in --out (a larger --budget goes on)")
    cal.set_defaults(func=cmd_calibrate)

    val = sub.add_parser(
        "validate", help="check scenario files",
        description=_wrap(
            "Check scenario files (and their base: chains) without running them. "
            "Prints OK or what is wrong for each; exits 1 if any is bad."))
    val.add_argument("files", nargs="+", metavar="FILE")
    val.set_defaults(func=cmd_validate)

    par = sub.add_parser(
        "params", help="list the model's parameters",
        description=_wrap(
            "List every parameter: name, default, allowed range, unit, and the source "
            "or assumption behind the default. These are the names scenario files and "
            "--set use."))
    par.add_argument("--group", choices=GROUPS, help="only this group")
    par.add_argument("--role", action="append", choices=ROLES,
                     help="only parameters of this role (repeatable): a lever is a policy choice "
                     "(in a policy, from its branch date); an uncertainty is sampled from its "
                     "plausible range; initial sets the starting state; a constant is known")
    par.add_argument("--why", action="store_true",
                     help="show the reasoning behind each plausible range instead")
    par.set_defaults(func=cmd_params)
    return parser


def _add_target(sub, fmt) -> None:
    tgt = sub.add_parser(
        "target", formatter_class=fmt,
        help="the smallest value of a lever that reaches a goal with a given chance",
        description=_wrap(
            "What does it take: the smallest value of one lever (in a policy, from its branch "
            "date) for which the chance of a goal reaches P, e.g. the troops for which gangs "
            "hold less than half of Port-au-Prince on 2027-12-31 in 80% of runs.\n\n"
            "The search is adaptive: a coarse grid of values first, then replicates where the "
            "curve crosses P, until P at the answer is known to within --precision. Replicate i "
            "runs with seed BASE + i at every value (common random numbers), and the values "
            "one replicate runs in a round share one simulated history. Prints the curve's "
            "points, then 'answer: LEVER = VALUE (90% interval LO to HI)' as the last line; "
            "writes target.json and target.html (the curve) to --out.\n\n"
            "An experiment underneath that grows as the search learns: the runs go into --out "
            "in a batch's results layout ('haiti-sim compare' reads them, one scenario per "
            "value run), and an interrupted search continues with --resume from the runs on "
            "disk, to the same answer.\n\n"
            "Levers moved together: --with moves other levers along a line with the one "
            "searched (how many troops, with the funding to match?). The search stays over "
            "--lever; every run sets them all, and the answer line ends '; with NAME = VALUE' "
            "for each. About $280,000 of pledges a year pays for one more troop after the "
            "disbursement shortfall; the ceiling can follow the target one for one:\n\n"
            "example:\n"
            "  haiti-sim target scenarios/gsf_full.yaml --lever mission_troops_target \\\n"
            "      --low 2000 --high 40000 --with funding_mission_others=280000 \\\n"
            "      --with mission_troop_ceiling=1 --set mission_deploy_troops_per_month=5000 \\\n"
            "      --metric capital_gang_share_area --below 0.5 --by 2027-12-31 \\\n"
            "      --probability 0.8"))
    tgt.add_argument("scenario", metavar="SCENARIO.yaml")
    tgt.add_argument("--lever", required=True, metavar="NAME",
                     help="the lever to search ('haiti-sim params --role lever' lists them)")
    tgt.add_argument("--with", dest="with_", action="append", default=[],
                     metavar="NAME=A:B|NAME=PER_UNIT",
                     help="another lever moved with --lever along a line (repeatable): A at "
                          "--low and B at --high, or PER_UNIT times the lever's value, e.g. "
                          "--with funding_mission_others=280000 (each value within the "
                          "lever's allowed range)")
    _goal_options(tgt)
    tgt.add_argument("--probability", required=True, type=float, metavar="P",
                     help="the chance wanted, between 0 and 1, e.g. 0.8")
    tgt.add_argument("--low", type=float, metavar="A",
                     help="the lowest value searched (default: the lever's lowest allowed)")
    tgt.add_argument("--high", type=float, metavar="B",
                     help="the highest value searched (default: the lever's highest allowed)")
    tgt.add_argument("--replicates", "-n", type=int, metavar="N",
                     help="the most replicates run at one value (default "
                          f"{search.Settings.max_replicates})")
    tgt.add_argument("--precision", type=float, default=search.Settings.precision,
                     metavar="PTS", help="stop once the chance at the answer is known to within "
                     f"this (the half-width of its 90%% interval; default "
                     f"{search.Settings.precision})")
    tgt.add_argument("--seed", type=_seed, metavar="BASE",
                     help="base seed (default: the scenario's seed)")
    tgt.add_argument("--workers", type=int, metavar="K",
                     help="local worker processes, at most the cores (default: all)")
    tgt.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help=SET_HELP)
    tgt.add_argument("--out", metavar="DIR",
                     help="the results directory: the runs (as a batch's), target.json and "
                          "target.html (default: runs/<scenario>.target.<lever>)")
    tgt.add_argument("--scheduler", metavar="tcp://HOST:8786",
                     help="run on this Dask scheduler instead of local processes (same "
                          "answer)")
    tgt.add_argument("--resume", action="store_true",
                     help="continue the search in --out from its runs on disk, running only "
                          "what it had not (give the same options; --seed, --set, -n and the "
                          "parameter mode default to the search's)")
    _parameter_options(tgt)
    tgt.set_defaults(func=cmd_target)


def _goal_options(parser: argparse.ArgumentParser) -> None:
    """--metric, --below/--above, --by, --sustained-days/--ever: a goal (`_goal`), as target and
    discover take it."""
    parser.add_argument("--metric", required=True, metavar="OUTCOME",
                        help="the goal's outcome, e.g. capital_gang_share_area (a flow, such as "
                             "killed, counts from the branch date)")
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--below", type=float, metavar="X", help="the goal: the outcome below X")
    side.add_argument("--above", type=float, metavar="X", help="the goal: the outcome above X")
    parser.add_argument("--by", required=True, type=_date, metavar="DATE",
                        help="the goal's date, e.g. 2027-12-31 (the runs stop there)")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--sustained-days", type=int, metavar="D",
                      help="the goal holds on every one of the last D days up to --by (default: "
                           "on --by itself)")
    when.add_argument("--ever", action="store_true",
                      help="the goal holds on some day from the branch date to --by")


def _check_limits(args) -> None:
    """--replicates and --workers within the limits, before any file is read or anything runs;
    more workers than cores are capped, with a note."""
    replicates = getattr(args, "replicates", None)
    if replicates is not None and not 1 <= replicates <= batch.MAX_REPLICATES:
        raise UsageError(f"--replicates {replicates:,}: give 1 to {batch.MAX_REPLICATES:,} "
                         "(split a larger study into batches)")
    if getattr(args, "workers", None) is not None and not args.scheduler:
        args.workers, note = batch.check_workers(args.workers)
        if note:
            print(f"note: {note}", file=sys.stderr)


def _os_error(exc: OSError) -> str:
    """"PATH: cause" for an error of the operating system (the path it names, if any)."""
    cause = exc.strerror or str(exc)
    return f"{exc.filename}: {cause}" if exc.filename else cause


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check_limits(args)
        return args.func(args)
    except (UsageError, *USER_ERRORS) as exc:
        print(f"haiti-sim: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # output piped into `head` and the like, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return _interrupted(args)
    except OSError as exc:  # after BrokenPipeError, which is one too
        print(f"haiti-sim: error: {_os_error(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR


def _interrupted(args) -> int:
    # A second Ctrl-C while the hint is printed must not end in a traceback either.
    try:
        resume = (f"; finished runs are kept: complete them with haiti-sim {args.command} "
                  f"--resume --out {args.out}" if args.command in (
                      "batch", "experiment", "sweep", "sensitivity", "discover")
                  else "")
        if args.command == "target":  # its question is on the command line, not in a file
            resume = (f"; finished runs are kept in {args.out}: continue the search with the "
                      "same command and --resume")
        print(f"\ninterrupted{resume}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
