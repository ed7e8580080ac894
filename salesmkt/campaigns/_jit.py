"""Compiled kernels for large attribution inputs (numba), with the numpy/Arrow path as fallback.

Private to :mod:`salesmkt.campaigns.attribution`. Two kernels:

* :func:`tokenize` splits the path strings of an Arrow string array on ``" > "`` straight from
  its byte buffer and encodes the channel names with a small open-addressing hash table, so no
  intermediate string array is built (Arrow's ``split_pattern`` + ``dictionary_encode`` copy
  every token);
* :func:`markov1_counts` builds the first-order transition counts in one pass over the codes,
  collapsing consecutive repeats on the fly.

Both produce exactly what the numpy path produces (tests compare them). They are used only for
inputs of at least ``JIT_ROWS`` paths, so small inputs (tests, the sample, reports) never pay
the compile time; compiled code is cached on disk when the package folder is writable.
"""

from __future__ import annotations

import functools
import importlib.util
from types import SimpleNamespace

import numpy as np
import pyarrow as pa

JIT_ROWS = 100_000
_TABLE = 4096  # hash slots (power of two): at most _TABLE // 2 distinct names


def available() -> bool:
    """Whether numba is installed (it is imported only when a large input needs it)."""
    return importlib.util.find_spec("numba") is not None


@functools.cache
def _kernels() -> SimpleNamespace:
    import numba

    _jit = numba.njit(cache=True, nogil=True)

    @_jit
    def _tokenize(data, offsets, codes, lengths, slots, names, name_off, state):
        """Fill ``codes``/``lengths`` in one pass over the bytes; ``state`` = [n_names, used
        name bytes, tokens written, error]. Returns False on an empty token or a full table."""
        at = state[2]
        for p in range(len(offsets) - 1):
            end = offsets[p + 1]
            i = offsets[p]
            start = i
            n = 0
            while True:
                if i < end and not (
                    data[i] == 32 and i + 2 < end and data[i + 1] == 62 and data[i + 2] == 32
                ):
                    i += 1
                    continue
                length = i - start
                if length <= 0:
                    state[3] = 1
                    return False
                # Cheap slot from length and the first and last two bytes; names are always
                # compared byte by byte, so collisions cost a probe, never a wrong code.
                h = length * 1_000_003 + data[start] * 8_191 + data[i - 1] * 131
                if length > 1:
                    h += data[start + 1] * 524_287 + data[i - 2] * 31
                slot = np.int64(h) & (_TABLE - 1)
                code = -1
                while slots[slot] >= 0:
                    c = slots[slot]
                    a, b = name_off[c], name_off[c + 1]
                    if b - a == length:
                        same = True
                        for k in range(length):
                            if names[a + k] != data[start + k]:
                                same = False
                                break
                        if same:
                            code = c
                            break
                    slot = (slot + 1) & (_TABLE - 1)
                if code < 0:
                    code = state[0]
                    if code >= _TABLE // 2 or state[1] + length > len(names):
                        state[3] = 2
                        return False
                    for k in range(length):
                        names[state[1] + k] = data[start + k]
                    state[1] += length
                    name_off[code + 1] = state[1]
                    slots[slot] = code
                    state[0] += 1
                codes[at] = code
                at += 1
                n += 1
                if i >= end:
                    break
                i += 3
                start = i
            lengths[p] = n
        state[2] = at
        return True

    @_jit
    def _markov1(codes, offsets, conv, null, value, n_labels):
        size = n_labels + 3
        counts = np.zeros((size, size))
        value_out = np.zeros(n_labels + 1)
        conv_s, null_s = n_labels + 1, n_labels + 2
        for p in range(len(offsets) - 1):
            a, b = offsets[p], offsets[p + 1]
            if b <= a:
                continue
            w = conv[p] + null[p]
            prev = 0
            for k in range(a, b):
                s = codes[k] + 1
                if s == prev:
                    continue  # consecutive repeat: collapsed
                counts[prev, s] += w
                prev = s
            counts[prev, conv_s] += conv[p]
            counts[prev, null_s] += null[p]
            value_out[prev] += value[p]
        return counts, value_out

    return SimpleNamespace(tokenize=_tokenize, markov1=_markov1)


def tokenize(arr) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Codes (int32), tokens per path and labels of an Arrow string array, or ``None`` when
    the input needs the general path (nulls, an empty name, too many names)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    prepared = []
    total = 0
    for chunk in chunks:
        if chunk.null_count:
            return None
        bufs = chunk.buffers()
        wide = pa.types.is_large_string(chunk.type)
        offs = np.frombuffer(bufs[1], dtype=np.int64 if wide else np.int32)
        offs = offs[chunk.offset : chunk.offset + len(chunk) + 1].astype(np.int64)
        data = (
            np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
        )
        prepared.append((data, offs))
        # Each token takes at least one byte plus a 3-byte separator: an upper bound on the
        # token count (np.empty does not touch the pages it does not use).
        total += (int(offs[-1] - offs[0]) + 3 * (len(offs) - 1)) // 4 + len(offs)
    codes = np.empty(total, dtype=np.int32)
    lengths = np.empty(sum(len(o) - 1 for _, o in prepared), dtype=np.int64)
    slots = np.full(_TABLE, -1, dtype=np.int64)
    names = np.empty(1 << 16, dtype=np.uint8)
    name_off = np.zeros(_TABLE // 2 + 1, dtype=np.int64)
    state = np.zeros(4, dtype=np.int64)
    at = 0
    for data, offs in prepared:
        n = len(offs) - 1
        ok = _kernels().tokenize(
            data, offs, codes, lengths[at : at + n], slots, names, name_off, state
        )
        if not ok:
            return None
        at += n
    codes = codes[: int(state[2])]  # a view: untouched pages of the bound cost nothing
    labels = np.asarray(
        [bytes(names[name_off[c] : name_off[c + 1]]).decode("utf-8") for c in range(int(state[0]))],
        dtype=object,
    )
    return codes, lengths, labels


def markov1_counts(codes, offsets, conv, null, value, n_labels):
    """First-order counts with repeats collapsed: a (n+3) x (n+3) matrix with states start,
    channels, conversion, null; and the conversion value leaving each transient state."""
    return _kernels().markov1(codes, offsets, conv, null, value, n_labels)
