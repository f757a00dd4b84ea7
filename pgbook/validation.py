"""Argument checks shared by every pgbook module.

Each check raises ``ValueError`` whose message starts with the argument's name, so that a reader who
passes bad input learns which argument was wrong and why, instead of meeting a NumPy traceback from
deep inside a computation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ATOL = 1e-8


def as_float_array(name: str, value: Any, ndim: int | None = None) -> np.ndarray:
    """Convert ``value`` to a float64 array, checking its number of dimensions and finiteness."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: cannot be read as an array of numbers ({err})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-dimensional array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or infinite entries")
    return arr


def check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> None:
    """Raise unless ``arr.shape == shape``."""
    if arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {arr.shape}")


def check_distribution(name: str, arr: np.ndarray, axis: int = -1) -> None:
    """Raise unless ``arr`` is non-negative and sums to 1 along ``axis``."""
    if np.any(arr < 0):
        idx = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name}: negative probability {arr[idx]:.3g} at index {idx}")
    sums = arr.sum(axis=axis)
    bad = np.abs(sums - 1.0) > 1e-6
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(bad))[0])
        value = np.atleast_1d(sums)[idx]
        where = f" (row {idx})" if np.ndim(sums) > 0 else ""
        raise ValueError(f"{name}: probabilities must sum to 1, but sum to {value:.6g}{where}")


def check_gamma(gamma: Any) -> float:
    """Return ``gamma`` as a float, raising unless it lies in [0, 1]."""
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"gamma: expected a number in [0, 1], got {gamma!r}") from None
    if not np.isfinite(g) or g < 0.0 or g > 1.0:
        raise ValueError(f"gamma: must lie in [0, 1], got {gamma!r}")
    return g


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, raising unless it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name}: must be at least 1, got {value}")
    return int(value)


def make_rng(seed: Any) -> np.random.Generator:
    """A ``np.random.Generator`` from a seed, or the generator itself if one is given."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(seed)
    raise ValueError(f"seed: expected an int, None or a numpy Generator, got {seed!r}")
