"""The compiled random streams (`sim.model.jit`): right distributions, reproducible, copyable.

Every draw of the daily model comes from these streams, so a biased uniform or a Poisson with the
wrong mean would bias every outcome without failing any other test.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from sim.model import jit


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
def _belows(state, k, n):
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = jit.below(state, k)
    return out


def test_uniforms_are_uniform_on_the_unit_interval():
    u = _uniforms(jit.stream(np.random.SeedSequence(1)), 400_000)
    assert u.min() >= 0 and u.max() < 1
    counts = np.bincount((u * 20).astype(int), minlength=20)
    chi2 = ((counts - len(u) / 20) ** 2 / (len(u) / 20)).sum()
    assert chi2 < 43.8  # 99.9th percentile of chi-square with 19 degrees of freedom
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01  # successive draws unrelated


@pytest.mark.parametrize("lam", [0.05, 1.0, 9.9, 10.0, 37.5, 2_000.0])
def test_poisson_draws_have_the_right_mean_and_variance(lam):
    x = _poissons(jit.stream(np.random.SeedSequence(2)), lam, 200_000)
    assert (x >= 0).all() and (x == np.round(x)).all()
    se = np.sqrt(lam / len(x))
    assert abs(x.mean() - lam) < 5 * se
    assert x.var() == pytest.approx(lam, rel=0.03)


def test_poisson_probabilities_match_the_distribution():
    x = _poissons(jit.stream(np.random.SeedSequence(3)), 12.0, 200_000)
    k = np.arange(40)
    pmf = np.exp(-12.0 + k * np.log(12.0) - np.array([np.sum(np.log(np.arange(1, i + 1)))
                                                      for i in k]))
    observed = np.bincount(x.astype(int), minlength=40)[:40] / len(x)
    assert np.abs(observed - pmf).max() < 0.004


def test_a_zero_mean_draws_zero_and_a_nan_mean_is_an_error():
    assert (_poissons(jit.stream(np.random.SeedSequence(4)), 0.0, 100) == 0).all()
    with pytest.raises(ValueError, match="NaN"):  # rather than looping for ever
        jit.poisson(jit.stream(np.random.SeedSequence(4)), float("nan"))


def test_below_covers_its_range_evenly():
    x = _belows(jit.stream(np.random.SeedSequence(5)), 7, 70_000)
    assert x.min() == 0 and x.max() == 6
    assert np.bincount(x) == pytest.approx(np.full(7, 10_000), rel=0.05)


def test_streams_are_reproducible_and_a_copy_continues_identically():
    a = jit.stream(np.random.SeedSequence(6))
    b = jit.stream(np.random.SeedSequence(6))
    assert np.array_equal(_uniforms(a, 10), _uniforms(b, 10))
    c = a.copy()  # what forking a model does to its streams
    assert np.array_equal(_uniforms(a, 10), _uniforms(c, 10))
    other = jit.stream(np.random.SeedSequence(7))
    assert not np.array_equal(_uniforms(a, 10), _uniforms(other, 10))
