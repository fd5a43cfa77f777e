"""The compiled random streams (`sim.model.jit`): right distributions, reproducible, keyed.

Every draw of the daily model comes from these generators, so a biased uniform or a Poisson with
the wrong mean would bias every outcome without failing any other test. Each generator is keyed
by (seed, stream, day, slot); generators of neighbouring keys must be unrelated.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from sim.model import jit

SEED = jit.seed_key(np.random.SeedSequence(1))


@numba.njit
def _uniforms(state, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = jit.uniform(state)
    return out


@numba.njit
def _poissons(state, lam, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = jit.poisson(state, lam)
    return out


@numba.njit
def _first_draws(seed, stream, days, slots):
    """The first uniform of each (day, slot) generator, as a (days, slots) table."""
    out = np.empty((days, slots))
    state = np.empty(4, np.uint64)
    for d in range(days):
        key = jit.day_key(seed, stream, d)
        for s in range(slots):
            jit.reseed(state, key, s)
            out[d, s] = jit.uniform(state)
    return out


def test_uniforms_are_uniform_on_the_unit_interval():
    u = _uniforms(jit.generator(SEED, jit.FIGHT, 0, 0), 400_000)
    assert u.min() >= 0 and u.max() < 1
    counts = np.bincount((u * 20).astype(int), minlength=20)
    chi2 = ((counts - len(u) / 20) ** 2 / (len(u) / 20)).sum()
    assert chi2 < 43.8  # 99.9th percentile of chi-square with 19 degrees of freedom
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01  # successive draws unrelated


@pytest.mark.parametrize("lam", [0.05, 1.0, 9.9, 10.0, 37.5, 2_000.0])
def test_poisson_draws_have_the_right_mean_and_variance(lam):
    x = _poissons(jit.generator(SEED, jit.LOSSES, 2, 0), lam, 200_000)
    assert (x >= 0).all() and (x == np.round(x)).all()
    se = np.sqrt(lam / len(x))
    assert abs(x.mean() - lam) < 5 * se
    assert x.var() == pytest.approx(lam, rel=0.03)


def test_poisson_probabilities_match_the_distribution():
    x = _poissons(jit.generator(SEED, jit.LOSSES, 3, 0), 12.0, 200_000)
    k = np.arange(40)
    pmf = np.exp(-12.0 + k * np.log(12.0) - np.array([np.sum(np.log(np.arange(1, i + 1)))
                                                      for i in k]))
    observed = np.bincount(x.astype(int), minlength=40)[:40] / len(x)
    assert np.abs(observed - pmf).max() < 0.004


def test_a_zero_mean_draws_zero_and_a_nan_mean_is_an_error():
    assert (_poissons(jit.generator(SEED, jit.LOSSES, 4, 0), 0.0, 100) == 0).all()
    with pytest.raises(ValueError, match="NaN"):  # rather than looping for ever
        jit.poisson(jit.generator(SEED, jit.LOSSES, 4, 0), float("nan"))


def test_a_key_gives_the_same_draws_every_time_and_a_copy_continues_identically():
    a, b = jit.generator(SEED, jit.FIGHT, 7, 3), jit.generator(SEED, jit.FIGHT, 7, 3)
    assert np.array_equal(_uniforms(a, 10), _uniforms(b, 10))
    c = a.copy()
    assert np.array_equal(_uniforms(a, 10), _uniforms(c, 10))


@pytest.mark.parametrize("other", [(jit.FIGHT, 8, 3), (jit.FIGHT, 7, 4), (jit.LOSSES, 7, 3)])
def test_neighbouring_keys_give_different_draws(other):
    here = _uniforms(jit.generator(SEED, jit.FIGHT, 7, 3), 10)
    there = _uniforms(jit.generator(SEED, *other), 10)
    assert not np.isin(here, there).any()
    other_seed = jit.seed_key(np.random.SeedSequence(2))
    assert not np.isin(here, _uniforms(jit.generator(other_seed, jit.FIGHT, 7, 3), 10)).any()


def test_first_draws_of_neighbouring_days_and_slots_are_uniform_and_unrelated():
    # the model draws only a few numbers from each generator: the first ones must be good
    u = _first_draws(SEED, jit.ATTACK_CHOICE, 300, 300)
    counts = np.bincount((u.ravel() * 20).astype(int), minlength=20)
    chi2 = ((counts - u.size / 20) ** 2 / (u.size / 20)).sum()
    assert chi2 < 43.8
    assert abs(np.corrcoef(u[:-1].ravel(), u[1:].ravel())[0, 1]) < 0.01  # day d and d + 1
    assert abs(np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]) < 0.01  # slot s, s + 1
    other = _first_draws(SEED, jit.OPERATION_CHOICE, 300, 300)
    assert abs(np.corrcoef(u.ravel(), other.ravel())[0, 1]) < 0.01  # stream and stream


if __name__ == "__main__":
    raise SystemExit(pytest.main([__file__, "-q"]))
