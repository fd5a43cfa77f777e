"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC), seeded and resumable.

The algorithm is population Monte Carlo ABC (Beaumont, Cornuet, Marin & Robert 2009; Toni et al.
2009) with thresholds that adapt to the population (Del Moral, Doucet & Jasra 2012; the default
of pyabc): generation 0 draws `first_multiple` x `particles` points from the prior and keeps the
`particles` closest, and each later generation resamples the last by weight, perturbs, keeps the
points within the threshold `epsilon` (the `alpha` weighted quantile of the last generation's
distances) and reweighs them by prior over proposal density.

It works in the prior's unit cube: every parameter is mapped to [0, 1] by its prior (uniform or
log-uniform over its plausible range, `sim.running.design.Factor`), so the prior density is
constant inside the cube and a weight is 1 / (sum_j w_j K(u | u_j)).

Which parameters the kernel moves. With 70-odd parameters a Gaussian kernel over all of them would
put almost every proposal outside the cube and its weights would degenerate, while most of the
parameters barely move the fit. So generation 0's prior sample decides (`screen`): a parameter
whose unit value explains a share of the variance of the distance, or of any part of it (the
correlation ratio over `SCREEN_BINS` bins) of at least `screen_threshold` is *adapted*: the kernel
(a multivariate normal with twice the population's weighted covariance, Beaumont et al.) perturbs
it. Every other parameter is drawn afresh from its prior at every proposal. That proposal is still
exact ABC: its density over those parameters is the prior, which cancels in the weight, so their
posterior is the prior reweighed by acceptance (they stay near it when the data say little).

Why not pyabc itself: its parallel samplers return the first particles to finish, so a posterior
depends on the machine's timing; here proposals come in fixed rounds drawn from a generator
seeded by (seed, generation, round), every round is evaluated whole and accepted in its order, so
the same seed gives the same posterior on one core, two, or a Dask cluster. Each round is saved
(`Store`), so an interrupted calibration resumes where it stopped.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

SCREEN_BINS = 10


@dataclass(frozen=True)
class Evaluations:
    """What the simulator returns for m points: the distance (inf for a failed run), its parts
    (m x c, e.g. per family of targets; they sum to the distance) and values kept with each
    point (m x k, e.g. every target's simulated figure)."""

    distance: np.ndarray
    parts: np.ndarray
    values: np.ndarray

    def take(self, index) -> Evaluations:
        return Evaluations(self.distance[index], self.parts[index], self.values[index])

    @staticmethod
    def join(items: list[Evaluations]) -> Evaluations:
        return Evaluations(*(np.concatenate([getattr(e, f) for e in items])
                             for f in ("distance", "parts", "values")))


Evaluate = Callable[[np.ndarray, np.ndarray], Evaluations]  # (unit points, seeds) -> evaluations


@dataclass(frozen=True)
class Settings:
    """What a calibration's result depends on besides the simulator; a resumed one must match."""

    particles: int = 200
    seed: int = 1
    alpha: float = 0.5
    first_multiple: int = 4
    round_size: int = 64
    min_acceptance: float = 0.02
    max_generations: int = 12
    screen_threshold: float = 0.05

    def __post_init__(self):
        if self.particles < 10:
            raise ValueError(f"particles must be at least 10, got {self.particles}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie between 0 and 1, got {self.alpha}")
        if self.first_multiple < 1 or self.round_size < 1:
            raise ValueError("first_multiple and round_size must be at least 1")


@dataclass(frozen=True)
class Generation:
    """One population: `unit` (particles x parameters) in the prior's unit cube, normalised
    importance `weights`, the accepted points' evaluations, the threshold they met, and how many
    simulations the generation cost."""

    index: int
    epsilon: float
    unit: np.ndarray
    weights: np.ndarray
    evaluations: Evaluations
    simulations: int
    adapted: np.ndarray  # bool per parameter: moved by the kernel, else drawn from the prior

    @property
    def acceptance(self) -> float:
        return len(self.weights) / max(self.simulations, 1)

    @property
    def ess(self) -> float:
        """Effective sample size of the weights (Kish)."""
        return float(1.0 / np.sum(self.weights ** 2))


def weighted_quantile(x: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cum = np.cumsum(weights[order])
    return float(x[order][min(np.searchsorted(cum, q * cum[-1]), len(x) - 1)])


def correlation_ratio(u: np.ndarray, y: np.ndarray, bins: int = SCREEN_BINS) -> np.ndarray:
    """Share of the variance of `y` explained by the bin of each column of `u` (eta squared, a
    first-order sensitivity estimate from a random sample that catches non-monotone effects)."""
    y = np.asarray(y, float)
    total = np.var(y)
    if total == 0:
        return np.zeros(u.shape[1])
    which = np.minimum((u * bins).astype(int), bins - 1)
    out = np.empty(u.shape[1])
    for j in range(u.shape[1]):
        counts = np.bincount(which[:, j], minlength=bins)
        means = np.bincount(which[:, j], y, minlength=bins) / np.maximum(counts, 1)
        out[j] = np.sum(counts * (means - y.mean()) ** 2) / len(y) / total
    return out


def screen(unit: np.ndarray, evaluations: Evaluations, threshold: float,
           permutations: int = 100) -> np.ndarray:
    """Which parameters the kernel adapts: those explaining at least `threshold` of the variance
    of the (rank of the) distance or of any of its parts in the prior sample, and more than
    chance does: the 99th percentile of the largest share over every parameter and part when
    the distances are shuffled (a permutation test over the whole family, so a parameter that
    does nothing is adapted in about 1 calibration of 100). Ranks, because a few very bad runs
    would otherwise decide alone; failed runs are left out."""
    ok = np.isfinite(evaluations.distance)
    u = unit[ok]
    columns = [np.argsort(np.argsort(c)) for c in
               [evaluations.distance[ok]] + list(evaluations.parts[ok].T)]
    scores = np.max([correlation_ratio(u, c) for c in columns], axis=0)
    rng = np.random.default_rng(0)
    null = [max(correlation_ratio(u, rng.permutation(c)).max() for c in columns)
            for _ in range(permutations)]
    return scores >= max(threshold, float(np.quantile(null, 0.99)))


class Store:
    """A calibration's folder: its settings, each evaluated round and each finished generation, so
    that it resumes from the last round it saved. Files are written whole then renamed."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def start(self, description: dict, resume: bool) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / "calibration.json"
        if path.exists():
            old = json.loads(path.read_text())
            if not resume:
                raise FileExistsError(f"{self.directory} holds a calibration already: pass "
                                      "--resume to continue it, or choose another --out")
            if old != description:
                changed = sorted(k for k in set(old) | set(description)
                                 if old.get(k) != description.get(k))
                raise ValueError(f"{path}: the calibration was started with other settings "
                                 f"({', '.join(changed)}); start a new one in another folder")
        else:
            self._write_json(path, description)

    def _write_json(self, path: Path, data: dict) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(path)

    def _save(self, name: str, **arrays) -> None:
        tmp = self.directory / (name + ".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(self.directory / (name + ".npz"))

    def _load(self, name: str):
        path = self.directory / (name + ".npz")
        if not path.exists():
            return None
        try:
            with np.load(path) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # damaged: redone, not trusted
            path.unlink()
            return None

    def round(self, generation: int, index: int) -> Evaluations | None:
        data = self._load(f"g{generation:02d}_r{index:04d}")
        return None if data is None else Evaluations(data["distance"], data["parts"],
                                                     data["values"])

    def save_round(self, generation: int, index: int, ev: Evaluations) -> None:
        self._save(f"g{generation:02d}_r{index:04d}", **asdict(ev))

    def generation(self, index: int) -> Generation | None:
        data = self._load(f"generation_{index:02d}")
        if data is None:
            return None
        return Generation(index, float(data["epsilon"]), data["unit"], data["weights"],
                          Evaluations(data["distance"], data["parts"], data["values"]),
                          int(data["simulations"]), data["adapted"])

    def save_generation(self, g: Generation) -> None:
        self._save(f"generation_{g.index:02d}", epsilon=g.epsilon, unit=g.unit,
                   weights=g.weights, simulations=g.simulations, adapted=g.adapted,
                   **asdict(g.evaluations))

    def generations(self) -> list[Generation]:
        out = []
        while (g := self.generation(len(out))) is not None:
            out.append(g)
        return out


def round_seeds(seed: int, generation: int, index: int, n: int) -> np.ndarray:
    """The simulator's seeds for one round: distinct per (seed, generation, round, point)."""
    state = np.random.SeedSequence([seed, generation, index]).generate_state(n + 1)
    return state[1:].astype(np.int64)


def _propose(previous: Generation, n: int, rng: np.random.Generator,
             chol: np.ndarray) -> np.ndarray:
    """n points: a particle drawn by weight, its adapted coordinates perturbed by the kernel and
    the others drawn from the prior; a point outside the cube is drawn again, particle and all (so
    the proposal is the kernel mixture restricted to the cube, up to one constant)."""
    d = previous.unit.shape[1]
    adapted = previous.adapted
    out = np.empty((0, d))
    while len(out) < n:
        m = 2 * (n - len(out)) + 8
        parent = rng.choice(len(previous.weights), size=m, p=previous.weights)
        u = rng.random((m, d))
        u[:, adapted] = (previous.unit[parent][:, adapted]
                         + rng.standard_normal((m, int(adapted.sum()))) @ chol.T)
        inside = np.all((u >= 0) & (u <= 1), axis=1)
        out = np.concatenate([out, u[inside]])
    return out[:n]


def _kernel(previous: Generation) -> np.ndarray:
    """Cholesky factor of the kernel's covariance: twice the weighted covariance of the adapted
    coordinates (Beaumont et al. 2009), with a floor so a collapsed coordinate still moves."""
    x = previous.unit[:, previous.adapted]
    cov = 2 * np.atleast_2d(np.cov(x, rowvar=False, aweights=previous.weights))
    cov += np.eye(len(cov)) * 1e-6
    return np.linalg.cholesky(cov)


def _new_weights(previous: Generation, unit: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """1 / (sum_j w_j K(u | u_j)) over the adapted coordinates (the prior is constant), scaled."""
    a = previous.adapted
    inv = np.linalg.inv(chol)
    z = (unit[:, None, a] - previous.unit[None, :, a]) @ inv.T  # (new, old, d)
    log_k = -0.5 * np.sum(z ** 2, axis=-1)
    shift = log_k.max(axis=1, keepdims=True)
    mix = np.log(np.sum(previous.weights[None, :] * np.exp(log_k - shift), axis=1)) + shift[:, 0]
    w = np.exp(-(mix - mix.max()))
    return w / w.sum()


def calibrate(evaluate: Evaluate, dims: int, settings: Settings, budget: int,
              store: Store | None = None,
              progress: Callable[[int, dict], None] | None = None) -> list[Generation]:
    """Run ABC-SMC until `budget` simulations are spent (a generation is only started if the last
    one's acceptance says it fits in what is left), the acceptance rate falls below
    `min_acceptance`, or `max_generations`; return the generations (the last is the posterior).
    `progress(simulations, info)` is called after each round."""
    s = settings
    done = store.generations() if store else []
    spent = sum(g.simulations for g in done)
    while len(done) < s.max_generations:
        t = len(done)
        if done:
            last = done[-1]
            if last.acceptance < s.min_acceptance:
                break
            expected = s.particles / max(last.acceptance, 1e-9)
            # The next threshold halves what the last one accepted, roughly: budget for that.
            if spent + expected * 1.5 > budget and t > 1:
                break
        gen = _generation(evaluate, dims, s, t, done[-1] if done else None, budget - spent,
                          store, lambda n, info, t=t: progress and progress(n, {**info, "g": t}))
        if gen is None:
            break
        done.append(gen)
        spent += gen.simulations
        if store:
            store.save_generation(gen)
    return done


def _generation(evaluate: Evaluate, dims: int, s: Settings, t: int,
                previous: Generation | None, budget: int, store: Store | None,
                progress) -> Generation | None:
    """One generation, round by round (each saved), or None if the budget ends before it does."""
    if previous is None:
        need = s.particles * s.first_multiple
        epsilon, chol = np.inf, None
    else:
        need = None
        epsilon = weighted_quantile(previous.evaluations.distance, previous.weights, s.alpha)
        chol = _kernel(previous)
    units, evals, simulations, r = [], [], 0, 0
    while True:
        accepted = (sum(int(np.sum(e.distance <= epsilon)) for e in evals) if need is None
                    else simulations)
        if (need is not None and simulations >= need) or (need is None and
                                                          accepted >= s.particles):
            break
        if simulations >= budget:
            return None
        rng = np.random.default_rng([s.seed, t, r, 7])
        size = s.round_size if need is None else min(s.round_size, need - simulations)
        unit = rng.random((size, dims)) if previous is None else _propose(previous, size, rng, chol)
        ev = store.round(t, r) if store else None
        if ev is None or len(ev.distance) != size:
            ev = evaluate(unit, round_seeds(s.seed, t, r, size))
            if store:
                store.save_round(t, r, ev)
        units.append(unit)
        evals.append(ev)
        simulations += size
        r += 1
        if progress:
            progress(size, {"eps": epsilon, "accepted": accepted})
    unit, ev = np.concatenate(units), Evaluations.join(evals)
    if previous is None:
        adapted = screen(unit, ev, s.screen_threshold)
        keep = np.argsort(ev.distance, kind="stable")[:s.particles]
        keep = keep[np.isfinite(ev.distance[keep])]
        epsilon = float(ev.distance[keep].max())
        weights = np.full(len(keep), 1 / len(keep))
    else:
        adapted = previous.adapted
        keep = np.flatnonzero(ev.distance <= epsilon)[:s.particles]
        weights = _new_weights(previous, unit[keep], chol)
    return Generation(t, epsilon, unit[keep], weights, ev.take(keep), simulations, adapted)


def resample(g: Generation, n: int, seed: int) -> np.ndarray:
    """Indices of `n` equal-weight draws from the population (systematic resampling: each
    particle appears floor or ceil of n times its weight), in a seeded random order."""
    rng = np.random.default_rng([seed, 99])
    positions = (rng.random() + np.arange(n)) / n
    index = np.searchsorted(np.cumsum(g.weights), positions)
    index = np.minimum(index, len(g.weights) - 1)
    return rng.permutation(index)
