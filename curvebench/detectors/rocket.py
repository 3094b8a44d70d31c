"""MiniRocket (Dempster, Schmidt and Webb, KDD 2021), multivariate, as plain numpy on saved parameters.

The transform convolves each series with the 84 fixed length-9 kernels (weights -1, three of
them 2) at a few dilations, each kernel-dilation pair summing its own random subset of
channels; each output gives the proportion of positive values (PPV) above a handful of biases
drawn from quantiles of the convolution of a random training series. Padded and unpadded
convolutions alternate. Everything learned is a few integer and float arrays
(:func:`fit_kernels`), saved with ``numpy.savez`` and evaluated by :func:`transform`: no pickle.

>>> import numpy as np
>>> X = np.random.default_rng(0).standard_normal((6, 3, 32))
>>> kernels = fit_kernels(X, n_features=168, seed=1)
>>> features = transform(X, kernels)
>>> features.shape, bool(((features >= 0) & (features <= 1)).all())
((6, 168), True)
"""

from __future__ import annotations

import itertools

import numpy as np

KERNEL_LENGTH = 9
_POSITIONS = np.array(list(itertools.combinations(range(KERNEL_LENGTH), 3)))
WEIGHTS = np.full((len(_POSITIONS), KERNEL_LENGTH), -1.0)
WEIGHTS[np.arange(len(_POSITIONS))[:, None], _POSITIONS] = 2.0
"""The 84 MiniRocket kernels, one per row."""
N_KERNELS = WEIGHTS.shape[0]
_GOLDEN = (np.sqrt(5.0) + 1.0) / 2.0


def fit_kernels(X: np.ndarray, n_features: int = 9996, max_dilations: int = 32,
                seed: int = 0) -> dict[str, np.ndarray]:
    """Dilations, channel subsets and biases for series ``X`` of shape ``(n, channels, length)``."""
    n, channels, length = X.shape
    if length < KERNEL_LENGTH:
        raise ValueError(f"series must have at least {KERNEL_LENGTH} points, got {length}")
    if n_features < N_KERNELS:
        raise ValueError(f"n_features must be at least {N_KERNELS}, got {n_features}")
    rng = np.random.default_rng(seed)
    per_kernel = n_features // N_KERNELS
    n_dilations = min(per_kernel, max_dilations)
    exponents = np.logspace(0, np.log2((length - 1) / (KERNEL_LENGTH - 1)), n_dilations, base=2)
    dilations, counts = np.unique(np.floor(exponents).astype(np.int64), return_counts=True)
    per_dilation = (counts * (per_kernel / n_dilations)).astype(np.int64)
    for i in range(per_kernel - int(per_dilation.sum())):
        per_dilation[i % per_dilation.size] += 1
    n_pairs = dilations.size * N_KERNELS
    widest = min(channels, KERNEL_LENGTH)
    n_channels = np.floor(2.0 ** rng.uniform(0, np.log2(widest + 1), n_pairs)).astype(np.int64)
    masks = np.zeros((n_pairs, channels))
    for pair, count in enumerate(n_channels):
        masks[pair, rng.choice(channels, size=count, replace=False)] = 1.0
    examples = rng.integers(n, size=n_pairs)
    quantiles = (np.arange(1, N_KERNELS * int(per_dilation.sum()) + 1) * _GOLDEN) % 1
    biases, start = [], 0
    for d, (dilation, count) in enumerate(zip(dilations, per_dilation)):
        pairs = slice(d * N_KERNELS, (d + 1) * N_KERNELS)
        mixed = np.einsum("kc,kcl->kl", masks[pairs], X[examples[pairs]])
        conv = _convolve(mixed[:, None, :], int(dilation))[:, 0, :]
        q = quantiles[start : start + N_KERNELS * count].reshape(N_KERNELS, count)
        biases.append(np.stack([np.quantile(conv[k], q[k]) for k in range(N_KERNELS)]).reshape(-1))
        start += N_KERNELS * count
    return {"dilations": dilations, "per_dilation": per_dilation, "masks": masks,
            "biases": np.concatenate(biases), "length": np.int64(length)}


def transform(X: np.ndarray, kernels: dict[str, np.ndarray], chunk: int = 128) -> np.ndarray:
    """The PPV features of series ``X`` ``(n, channels, length)``: shape ``(n, n_features)``."""
    n = X.shape[0]
    out = np.empty((n, kernels["biases"].size))
    for first in range(0, n, chunk):
        out[first : first + chunk] = _features(X[first : first + chunk], kernels)
    return out


def _features(X: np.ndarray, kernels: dict[str, np.ndarray]) -> np.ndarray:
    n, _, length = X.shape
    columns, start = [], 0
    for d, (dilation, count) in enumerate(zip(kernels["dilations"], kernels["per_dilation"])):
        dilation, count = int(dilation), int(count)
        mixed = np.matmul(kernels["masks"][d * N_KERNELS : (d + 1) * N_KERNELS], X).transpose(1, 0, 2)
        conv = _convolve(mixed, dilation)
        biases = kernels["biases"][start : start + N_KERNELS * count].reshape(N_KERNELS, count)
        start += N_KERNELS * count
        region = np.ones((N_KERNELS, length), dtype=bool)
        pad = 4 * dilation
        region[(d + np.arange(N_KERNELS)) % 2 == 1, :pad] = False
        region[(d + np.arange(N_KERNELS)) % 2 == 1, length - pad :] = False
        above = (conv[:, :, None, :] > biases[:, None, :, None]) & region[:, None, None, :]
        ppv = above.sum(axis=-1) / region.sum(axis=1)[:, None, None]
        columns.append(ppv.transpose(1, 0, 2).reshape(n, N_KERNELS * count))
    return np.concatenate(columns, axis=1)


def _convolve(mixed: np.ndarray, dilation: int) -> np.ndarray:
    """Each kernel k over its own series ``mixed[k]`` ``(84, n, length)``, zero-padded to the same length."""
    length = mixed.shape[-1]
    pad = 4 * dilation
    padded = np.zeros(mixed.shape[:-1] + (length + 2 * pad,))
    padded[..., pad : pad + length] = mixed
    taps = padded[..., dilation * np.arange(KERNEL_LENGTH)[:, None] + np.arange(length)]
    return np.matmul(WEIGHTS[:, None, None, :], taps)[:, :, 0, :]
