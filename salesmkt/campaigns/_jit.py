"""Fast paths for large attribution inputs: exact numpy passes, or numba kernels once loaded.

Private to :mod:`salesmkt.campaigns.attribution`. Two steps have a fast path:

* :func:`tokenize` splits the path strings of an Arrow string array on ``" > "`` straight from
  its byte buffer and encodes the channel names, so no intermediate string array is built
  (Arrow's ``split_pattern`` + ``dictionary_encode`` copy every token);
* :func:`markov1_counts` builds the first-order transition counts, collapsing consecutive
  repeats on the fly.

Each comes twice, with exactly the same output (tests compare them with each other and with
the general numpy path): a numpy version that works on cache-sized slices of the input, and a
numba kernel, about twice as fast. Importing numba and loading its compiled kernels costs a
fresh process 0.4 s on a quiet machine and several seconds on a busy one, more than the whole
numpy version takes on a million paths. So a process starts on the numpy versions, and the
first large first-order Markov call starts loading the kernels in a daemon thread
(:func:`warm_up`), which waits until that call's passes are over (:func:`large_pass`); later
calls use the kernels once they are ready. No call waits for numba. On a million unique
paths (8 channels, 8 million touches) a fresh process's first call took 0.31-0.42 s here
(tokenizing 0.20-0.30 s, counting 0.07-0.09 s, the rest reading the input and the counts),
against about 3 s for ChannelAttribution's ``markov_model``.
Both are used only for inputs of at least ``JIT_ROWS`` paths; smaller inputs take the general
path.

Compiled kernels are cached on disk (``cache=True``), where numba's cache locators put them:
``$NUMBA_CACHE_DIR`` when set, else ``__pycache__`` beside this file, else, when the install is
read-only, the user-wide cache (``~/.cache/numba`` on Linux). A missing or stale cache only
costs one compilation (8-10 s here).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pyarrow as pa

JIT_ROWS = 100_000
_TABLE = 4096  # hash slots (power of two): at most _TABLE // 2 distinct names


def available() -> bool:
    """Whether the fast paths can run: always, the numpy versions need nothing more."""
    return True


def _hugepage_setter():
    """numpy's switch for advising transparent huge pages on large arrays, if it has one."""
    for name in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover - numpy 1.x has only numpy.core
            continue
        setter = getattr(module, "_set_madvise_hugepage", None)
        if setter is not None:
            return setter
    return None  # pragma: no cover


_SET_HUGEPAGE = _hugepage_setter()
_PASSES = threading.Condition()
_passes = 0  # large passes running now, in any thread
_pages_before = True
_WARM_UP_WAIT = 10.0  # seconds the numba warm-up waits for running passes to end


@contextlib.contextmanager
def large_pass() -> Iterator[None]:
    """Mark a pass over large inputs: its numpy arrays get ordinary pages, and the numba
    warm-up (:func:`warm_up`) waits for it to end before importing numba.

    numpy advises the kernel to back every array of 4 MB or more with transparent huge
    pages. Where the kernel honours that advice by compacting memory on the spot (Linux with
    transparent huge pages set to ``madvise``, the default of Debian and Ubuntu), a fresh
    process pays for it on the first touch of each new array: 0.3-0.6 s of system time in the
    first call on a million paths here, more than the numpy passes themselves. Later calls
    reuse the memory the first one freed, so only the first call pays. The passes stream
    through their arrays once, so huge pages gain them nothing. Only where memory comes from
    changes, never a result; numpy's setting is restored when the last running pass ends
    (nested and concurrent passes share one counter).

    Importing numba holds the GIL for long stretches, so a warm-up started by a call's
    counting step would slow the rest of that call; it starts once no pass is running.
    """
    global _passes, _pages_before
    with _PASSES:
        if _passes == 0 and _SET_HUGEPAGE is not None:
            _pages_before = _SET_HUGEPAGE(False)
        _passes += 1
    try:
        yield
    finally:
        with _PASSES:
            _passes -= 1
            if _passes == 0:
                if _SET_HUGEPAGE is not None:
                    _SET_HUGEPAGE(_pages_before)
                _PASSES.notify_all()


_READY = threading.Event()  # the numba kernels are loaded in this process
_WARMING = threading.Lock()
_warm_thread: threading.Thread | None = None


def compiled() -> bool:
    """Whether the numba kernels run: they have been loaded in this process."""
    return _READY.is_set()


def _load_kernels() -> None:
    """Import numba and load (or, the first time ever, compile) both kernels, once the
    running passes have ended."""
    with _PASSES:
        _PASSES.wait_for(lambda: _passes == 0, timeout=_WARM_UP_WAIT)
    try:
        kernels = _kernels()
        small = np.zeros(1, np.int64)
        kernels.markov1(np.zeros(1, np.int32), np.array([0, 1]), *(np.ones(1),) * 3, 1)
        kernels.tokenize(
            np.frombuffer(b"a", np.uint8),
            np.array([0, 1]),
            np.empty(1, np.int32),
            small,
            np.full(_TABLE, -1, np.int64),
            np.empty(16, np.uint8),
            np.zeros(_TABLE // 2 + 1, np.int64),
            np.zeros(4, np.int64),
        )
    except Exception:  # noqa: BLE001 - the numpy versions stay in use
        return
    _READY.set()


def warm_up(*, background: bool = True) -> None:
    """Load the numba kernels for the next calls, once per process (no-op without numba).

    Called after a large first-order Markov call has run on the numpy versions, so the user
    never waits for numba: it loads in a daemon thread once the call's passes are over, and
    later calls use the kernels once they are ready (a call made before that uses numpy).
    """
    global _warm_thread
    if _READY.is_set() or importlib.util.find_spec("numba") is None:
        return
    with _WARMING:
        if _warm_thread is None:
            _warm_thread = threading.Thread(
                target=_load_kernels, name="salesmkt-numba-warm-up", daemon=True
            )
            _warm_thread.start()
    if not background:
        _warm_thread.join()


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
    the input needs the general path (nulls, an empty name, too many names).

    Codes number the names in order of first appearance, as Arrow's ``dictionary_encode``
    does."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        if chunk.null_count or not (
            pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)
        ):
            return None
    if not compiled():
        return _tokenize_numpy(chunks)
    prepared = []
    total = 0
    for chunk in chunks:
        bufs = chunk.buffers()
        wide = pa.types.is_large_string(chunk.type)
        offs = np.frombuffer(bufs[1], dtype=np.int64 if wide else np.int32)
        offs = offs[chunk.offset : chunk.offset + len(chunk) + 1].astype(np.int64, copy=False)
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
    if compiled():
        return _kernels().markov1(codes, offsets, conv, null, value, n_labels)
    out = _markov1_numpy(codes, offsets, conv, null, value, n_labels)
    warm_up()
    return out


# ---------------------------------------------------------------- numpy versions

SLICE_PATHS = 4_096  # paths per slice: the slice's bytes and tokens stay in the CPU cache
_SLOT_BITS = 12
_MAX_NAMES = 1 << (_SLOT_BITS - 2)  # keep the name table at most a quarter full
# Odd multipliers for the slot hash; a clash of two names in one slot retries with the next.
_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xD6E8FEB86659FD93, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB)
_MIX = np.uint64(0xC2B2AE3D27D4EB4F)
# Byte j of this word is 3 - j: times 256**k, its top byte is k.
_BYTE_INDEX = np.uint32(0x00010203)
_LOW = np.array([0] + [(1 << (8 * k)) - 1 for k in range(1, 8)] + [2**64 - 1], dtype=np.uint64)
# Row L: the masks that keep a name of L bytes (16 for longer ones) in its first and second
# 8-byte words.
_MASKS = np.array([[_LOW[min(n, 8)], _LOW[max(n - 8, 0)]] for n in range(17)], dtype=np.uint64)


class _Clash(Exception):
    """Two names met in one hash slot (or look alike in their first and last 8 bytes)."""


class _Names:
    """The distinct names seen so far, numbered in order of first appearance.

    A name is keyed on its length and two little-endian 8-byte words: its first 16 bytes
    (zero-padded), which identify names of up to 16 bytes exactly; longer names take their
    first and their last 8 bytes, add a fingerprint of the words between to the key and are
    then compared word by word (:meth:`check_long`), so a code is never wrong.
    """

    def __init__(self, multiplier: int):
        size = 1 << _SLOT_BITS
        self.multiplier = np.uint64(multiplier)
        self.words = np.zeros((size, 2), np.uint64)  # each slot's first and last word
        self.first, self.last = self.words[:, 0], self.words[:, 1]
        self.length = np.zeros(size, np.int64)  # 0: empty slot (names have >= 1 byte)
        self.middle = np.zeros(size, np.uint64)  # fingerprint of the middle words, 0 if none
        self.code = np.zeros(size, np.int32)
        self.names: list[bytes] = []
        self._words: dict[int, np.ndarray] = {}
        # A name in the table with a NUL byte, or of more than 16 bytes: names must then be
        # compared on their length too (see :meth:`codes`).
        self.odd = False

    def codes(self, pair, length, starts, data, view, long: bool, nul: bool, out) -> np.ndarray:
        """Code of each name, written to ``out``; ``pair`` holds each name's first and last
        word (one row a name), ``long`` says whether any name is longer than 16 bytes and
        ``nul`` whether the names may hold a NUL byte.

        Two names of up to 16 bytes with the same (zero-padded) words differ in length only
        if the longer one ends in NUL bytes, so without NUL bytes and longer names about,
        the words alone tell every name apart and the length compare is skipped."""
        first, last = pair[:, 0], pair[:, 1]
        h = first * self.multiplier
        h ^= last
        middle = self._middle(starts, length, view) if long else None
        if middle is not None:
            h ^= middle
        h *= _MIX
        h >>= np.uint64(64 - _SLOT_BITS)
        h = h.view(np.intp)  # slots < 2**_SLOT_BITS: index with intp, numpy's own index type
        # ``take`` from the small tables: faster than fancy indexing for the same result
        same = self.words.take(h, axis=0)  # both words of each slot in one gather
        same = same == pair
        ok = None
        if long or nul or self.odd or middle is not None or not same.all():
            ok = same[:, 0] & same[:, 1]
            ok &= self.length.take(h) == length
            if middle is not None:
                ok &= self.middle[h] == middle
        if ok is not None and not ok.all():  # names not seen before (or a clash)
            miss = np.flatnonzero(~ok)
            slots, at = np.unique(h[miss], return_index=True)
            for i in np.argsort(at, kind="stable"):
                slot, j = slots[i], miss[at[i]]
                if self.length[slot] or len(self.names) >= _MAX_NAMES:
                    raise _Clash
                self.first[slot], self.last[slot] = first[j], last[j]
                self.length[slot] = length[j]
                self.middle[slot] = middle[j] if middle is not None else 0
                self.code[slot] = len(self.names)
                self.names.append(bytes(data[starts[j] : starts[j] + length[j]]))
                self.odd |= bool(length[j] > 16) or b"\0" in self.names[-1]
                self._words.clear()
            hm = h[miss]
            same = self.length[hm] == length[miss]
            same &= self.first[hm] == first[miss]
            same &= self.last[hm] == last[miss]
            if middle is not None:
                same &= self.middle[hm] == middle[miss]
            if not same.all():
                raise _Clash
        return self.code.take(h, out=out)

    def _middle(self, starts, length, view) -> np.ndarray | None:
        """Fingerprint of the 8-byte words between the first and the last of long names."""
        idx = long = np.flatnonzero(length > 16)
        if not len(idx):
            return None
        middle = np.zeros(len(length), np.uint64)
        acc = np.zeros(len(idx), np.uint64)
        at = 8
        while len(idx):
            acc ^= view[starts[idx] + at]
            acc *= self.multiplier
            middle[idx] = acc
            at += 8
            keep = length[idx] > at + 8
            idx, acc = idx[keep], acc[keep]
        fingerprint = middle[long]
        fingerprint[fingerprint == 0] = 1  # 0 means "no middle words"
        middle[long] = fingerprint
        return middle

    def check_long(self, codes, starts, length, view) -> None:
        """Compare the middle 8-byte words of names longer than 16 bytes with their code's."""
        idx = np.flatnonzero(length > 16)
        at = 8
        while len(idx):
            if at not in self._words:
                self._words[at] = np.array(
                    [int.from_bytes(n[at : at + 8].ljust(8, b"\0"), "little") for n in self.names],
                    dtype=np.uint64,
                )
            if not (view[starts[idx] + at] == self._words[at][codes[idx]]).all():
                raise _Clash
            at += 8
            idx = idx[length[idx] > at + 8]


def _tokenize_numpy(chunks) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    # One thread: on a busy 2-core machine, two threads splitting the paths were slower.
    for multiplier in _MULTIPLIERS:
        try:
            return _tokenize_slices(chunks, _Names(multiplier))
        except _Clash:
            continue
    return None


def _tokenize_slices(chunks, names: _Names):
    prepared = []
    bound = n_paths = 0
    for chunk in chunks:
        bufs = chunk.buffers()
        wide = pa.types.is_large_string(chunk.type)
        offs = np.frombuffer(bufs[1], dtype=np.int64 if wide else np.int32)
        offs = offs[chunk.offset : chunk.offset + len(chunk) + 1].astype(np.int64, copy=False)
        raw = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
        prepared.append((offs, raw))
        # A name takes at least one byte and a separator three: a bound on the name count
        # (np.empty does not touch the pages it does not use).
        bound += (int(offs[-1] - offs[0]) + 3 * (len(offs) - 1)) // 4 + len(offs)
        n_paths += len(offs) - 1
    codes = np.empty(bound, np.int32)
    lengths = np.empty(n_paths, np.int64)
    n_codes = n_done = 0
    buf = np.zeros(0, np.uint8)
    mark = np.zeros(0, "<u4")  # the byte mask, read as little-endian 4-byte groups
    for offs, raw in prepared:
        for a in range(0, len(offs) - 1, SLICE_PATHS):
            o = offs[a : a + SLICE_PATHS + 1]
            base, nb = int(o[0]), int(o[-1] - o[0])
            o = o - base
            if nb == 0 or (o[1:] == o[:-1]).any():
                return None  # an empty path: the general path names it
            # The slice's bytes with 8 zero bytes before and 16 after, so that the 16 bytes
            # from the start of every name and the 8 bytes up to its end lie in the buffer.
            if len(buf) < nb + 24:
                buf = np.zeros(max(nb + 24, 2 * len(buf)), np.uint8)
            padded = buf[: nb + 24]
            padded[:8] = 0
            padded[nb + 8 :] = 0
            padded[8 : nb + 8] = raw[base : base + nb]
            data = padded[8 : nb + 8]
            # One list of cuts, in order: every ">" and every path end. The path ends are
            # marked in the byte mask itself (a path starting with ">" goes to the general
            # path), so one scan finds both and no merge is needed.
            nq = nb // 4 + 1  # 4-byte groups of the mask: nb + 1 flags, zeros after
            if len(mark) < nq:
                mark = np.zeros(max(nq, 2 * len(mark)), "<u4")
            mq = mark[:nq]
            m = mq.view(bool)
            np.equal(data, 62, out=m[:nb])
            m[nb:] = False
            ends = o[1:]
            if m.take(ends[:-1]).any():
                return None
            m[ends] = True
            # The flags found 4 bytes at a time (a quarter of the bytes to search): a group
            # with one flag (names of 3 bytes or more keep flags 4 bytes apart) is a power
            # of 256 whose byte index a multiply reads off. Closer flags: byte by byte.
            cuts = np.flatnonzero(mq != 0)
            if np.count_nonzero(m) == len(cuts):
                at = mq.take(cuts)
                at *= _BYTE_INDEX
                at >>= np.uint32(24)
                cuts <<= 2
                cuts += at
            else:
                cuts = np.flatnonzero(m)
            # In ``padded`` (8 bytes ahead of ``data``): a path end's cut is a zero byte or the
            # next path's first byte, never ">"; a separator's is the ">" of " > ". (Slices
            # of ``padded`` are read with ``take``: a contiguous source is its fast case.)
            is_end = padded[8:].take(cuts) != 62
            ok = padded[7:].take(cuts) == 32
            ok &= padded[9:].take(cuts) == 32
            ok |= is_end
            if not ok.all():  # a ">" inside a name: not a cut
                cuts, is_end = cuts[ok], is_end[ok]
            path_end = np.flatnonzero(is_end)
            # A name ends at its cut's space (separator) or at the cut (path end); the next
            # one starts 2 bytes after a separator's ">" or at the next path's start.
            starts = np.empty(len(cuts), np.intp)
            starts[0] = 8
            np.add(cuts[:-1], 10, out=starts[1:])
            starts[path_end[:-1] + 1] -= 2
            length = cuts + 7
            length -= starts
            length[path_end] += 1
            if len(path_end) != len(o) - 1 or length.min() < 1:
                return None  # an empty name, or separators that overlap or span two paths
            long = bool(length.max() > 16)
            view = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
            # The first 16 bytes from every name's start, gathered as raw 16-byte items
            # (faster than two unaligned integers), the bytes outside the name masked off:
            # all the bytes of names of up to 16 bytes. Longer names take their last 8 bytes
            # as second word and a fingerprint of the words between (:meth:`_Names.codes`).
            words = np.ndarray((len(padded) - 15,), dtype="V16", buffer=padded, strides=(1,))
            pair = words[starts].view("<u8").reshape(-1, 2)
            pair &= _MASKS.take(length, axis=0, mode="clip")
            if long:
                over = np.flatnonzero(length > 16)
                pair[over, 1] = view[starts[over] + length[over] - 8]
            out = codes[n_codes : n_codes + len(length)]
            nul = bool(data.min() == 0)
            names.codes(pair, length, starts, padded, view, long, nul, out)
            if long:
                names.check_long(out, starts, length, view)
            n_codes += len(length)
            out = lengths[n_done : n_done + len(o) - 1]
            out[0] = path_end[0] + 1
            np.subtract(path_end[1:], path_end[:-1], out=out[1:])
            n_done += len(o) - 1
    codes = codes[:n_codes]  # a view: untouched pages of the bound cost nothing
    labels = np.asarray([n.decode("utf-8") for n in names.names], dtype=object)
    return codes, lengths, labels


def _markov1_numpy(codes, offsets, conv, null, value, n_labels):
    """:func:`markov1_counts` in numpy, cell by cell the same sums as the kernel.

    Every pair of neighbouring touches in a journey is counted, repeats included: a repeat
    ``a > a`` only adds to the diagonal cell, which collapsing leaves empty, so the diagonal
    is cleared afterwards, and every other cell gets the same additions in the same order as
    the kernel's. Pairs that cross from one journey into the next weigh 0 (adding 0.0 leaves
    a sum as it is). Counted per slice of journeys when the weights are whole numbers (their
    sums are exact in any order); otherwise in one pass, in journey order, as the kernel adds.
    """
    size = n_labels + 3
    weight = conv + null
    n = len(weight)
    step = 4 * SLICE_PATHS
    # Whole weights? Checked slice by slice: no array the size of the input is made.
    whole = float(weight.sum()) < 2**52
    if whole:
        for a in range(0, n, step):
            w = weight[a : a + step]
            if not np.array_equal(w, np.round(w)):
                whole = False
                break
    if not whole:
        step = max(n, 1)
    # Pair (a, b) of channel codes goes to cell (a + 1, b + 1): key a * size + b, shifted.
    counts = np.zeros(size * size)
    shift = size + 1
    for a in range(0, n, step):
        b = min(a + step, n)
        lo, hi = int(offsets[a]), int(offsets[b])
        if hi - lo < 2:
            continue
        state = codes[lo:hi]
        key = np.multiply(state[:-1], size, dtype=np.intp)
        key += state[1:]
        ends = offsets[a + 1 : b + 1] - lo
        lengths = np.diff(offsets[a : b + 1])
        w_touch = np.repeat(weight[a:b], lengths)
        ends -= 1
        w_touch[ends[lengths > 0]] = 0.0  # a journey's last touch: no pair with the next
        sums = np.bincount(key, weights=w_touch[:-1])
        counts[shift : shift + len(sums)] += sums
    counts = counts.reshape(size, size)
    channels = np.arange(1, n_labels + 1)
    counts[channels, channels] = 0.0
    # First and last channel of each journey (code c is state c + 1).
    has = offsets[1:] > offsets[:-1]
    if has.all():  # ``take``: faster than fancy indexing for the same result
        first, end = codes.take(offsets[:-1]), codes.take(offsets[1:] - 1)
    else:
        weight, conv, null, value = weight[has], conv[has], null[has], value[has]
        first, end = codes.take(offsets[:-1][has]), codes.take(offsets[1:][has] - 1)
    counts[0, 1 : n_labels + 1] += np.bincount(first, weights=weight, minlength=n_labels)
    counts[1 : n_labels + 1, n_labels + 1] += np.bincount(end, weights=conv, minlength=n_labels)
    counts[1 : n_labels + 1, n_labels + 2] += np.bincount(end, weights=null, minlength=n_labels)
    value_out = np.zeros(n_labels + 1)
    value_out[1:] = np.bincount(end, weights=value, minlength=n_labels)
    return counts, value_out
