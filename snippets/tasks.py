"""The tasks the experiments train on, each with the baseline a model must beat.

Every task gives float inputs `x` of shape `(batch, time, input_size)`
(symbols are one-hot) and targets `y`; a model returns one output vector per
step, `(batch, time, output_size)`, and the task's `loss` reads the steps it
scores. Each task states its *memoryless baseline*: the best loss of a predictor
that cannot remember anything from the steps before the one it answers at.

- `AddingProblem`: sum the two marked numbers of a long sequence
  (Hochreiter & Schmidhuber 1997, and the later form of Arjovsky et al. 2016).
- `CopyMemory`: reproduce 10 symbols after `T` blanks.
- `Recall`: name a token seen `gap` steps before, past distractors.
- `CharCorpus`: next-character prediction on torch's own Python source.
"""

from __future__ import annotations

import hashlib
import math
import pathlib
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from snippets.errors import check_size

# --------------------------------------------------------------------------------------
# The adding problem
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddingProblem:
    r"""Add the two marked values of a sequence; answer at its last step.

    Each step carries a pair (value, marker). Exactly two steps are marked with
    marker 1; the target is a function of their two values, scored by the
    squared error of the output at the last step.

    `variant="arjovsky"` (Arjovsky, Shah & Bengio 2016; Le et al. 2015):
    values $v_t \sim U(0, 1)$, one mark in the first half, one in the
    second, target $y = v_a + v_b$. A memoryless model can only output the
    mean, $E[y] = 1$, and scores the variance of the target,

    $$
    \mathrm{MSE}_0 = \mathrm{Var}(v_a) + \mathrm{Var}(v_b) = 2 \cdot \tfrac{1}{12} = \tfrac16 \approx 0.167.
    $$

    `variant="hochreiter"` (Hochreiter & Schmidhuber 1997, experiment 4):
    values $U(-1, 1)$; the first mark $X_1$ is one of the first 10
    steps, the second $X_2$ one of the first $T/2 - 1$ still
    unmarked steps; the first and last steps carry marker -1 unless marked;
    a marked first step has its value set to 0. Target
    $y = 0.5 + (X_1 + X_2)/4$; a sequence counts as solved when
    $|\hat y - y| < 0.04$. The paper draws lengths from
    $[T, T + T/10]$; here one length is drawn per batch so that a batch
    stays one tensor. Memoryless baseline: predict 0.5, scoring
    $(E[X_1^2] + E[X_2^2])/16 = (2 - p_0)/48$, with $p_0$ the
    probability that the first step is marked (its value is then 0).
    """

    T: int = 100
    variant: str = "arjovsky"

    input_size = 2
    output_size = 1
    success_threshold = 0.04  # Hochreiter & Schmidhuber's |error| criterion

    def __post_init__(self):
        check_size("T", self.T, 2)
        if self.variant not in ("arjovsky", "hochreiter"):
            raise ValueError(f"variant must be 'arjovsky' or 'hochreiter', got {self.variant!r}")
        if self.variant == "hochreiter" and self.T < 24:
            # The second mark needs T/2 - 1 candidates beyond the first mark's 10.
            raise ValueError(f"the hochreiter variant needs T >= 24, got {self.T}")

    @property
    def baseline(self) -> float:
        """The MSE of the best memoryless predictor (a constant: the target's mean)."""
        if self.variant == "arjovsky":
            return 1.0 / 6.0
        return (2.0 - self._p_first_marked()) / 48.0

    def _p_first_marked(self) -> float:
        # X1 sits at step 0 with probability 1/10; otherwise X2 does with 1/(T/2 - 1).
        return 0.1 + 0.9 / (self.T // 2 - 1)

    def sample(self, batch_size: int, generator: torch.Generator):
        """Return `x` of shape (batch, length, 2) and the target `y` of shape (batch, 1)."""
        check_size("batch_size", batch_size, 1)
        if self.variant == "arjovsky":
            return self._sample_arjovsky(batch_size, generator)
        return self._sample_hochreiter(batch_size, generator)

    def _sample_arjovsky(self, n, g):
        T, half = self.T, self.T // 2
        values = torch.rand(n, T, generator=g)
        first = torch.randint(0, half, (n,), generator=g)
        second = torch.randint(half, T, (n,), generator=g)
        markers = torch.zeros(n, T)
        rows = torch.arange(n)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        y = (values * markers).sum(1, keepdim=True)
        return torch.stack([values, markers], dim=-1), y

    def _sample_hochreiter(self, n, g):
        length = self.T + int(torch.randint(0, self.T // 10 + 1, (1,), generator=g))
        values = torch.rand(n, length, generator=g) * 2 - 1
        rows = torch.arange(n)
        first = torch.randint(0, 10, (n,), generator=g)
        # One of the first T/2 - 1 steps not already marked: skip over the first mark.
        second = torch.randint(0, self.T // 2 - 1, (n,), generator=g)
        second = second + (second >= first).long()
        markers = torch.zeros(n, length)
        markers[:, 0] = -1.0
        markers[:, -1] = -1.0
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        values[:, 0] = torch.where(markers[:, 0] == 1.0, 0.0, values[:, 0])
        y = 0.5 + (values * (markers == 1.0)).sum(1, keepdim=True) / 4.0
        return torch.stack([values, markers], dim=-1), y

    def loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean squared error of the last step's output."""
        return F.mse_loss(outputs[:, -1], y)

    def accuracy(self, outputs: torch.Tensor, y: torch.Tensor) -> float:
        """Fraction of sequences with `|error| < 0.04` (Hochreiter & Schmidhuber's criterion)."""
        return float(((outputs[:, -1] - y).abs() < self.success_threshold).float().mean())


# --------------------------------------------------------------------------------------
# Copy memory
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyMemory:
    r"""Reproduce 10 symbols after a delay of `T` steps (Arjovsky et al. 2016).

    Alphabet: 0 is the blank, 1..8 the symbols, 9 the delimiter. The input is
    10 symbols drawn from 8, then `T - 1` blanks, the delimiter, and 10
    blanks: `T + 20` steps. The target is `T + 10` blanks and then the same
    10 symbols. Loss: cross-entropy averaged over all `T + 20` steps.

    A memoryless model outputs blank with certainty until the delimiter has
    passed and then a uniform guess over the 8 symbols, so its loss is

    $$
    \mathcal{L}_0 = \frac{10 \ln 8}{T + 20}.
    $$
    """

    T: int = 100
    n_copy: int = 10
    n_symbols: int = 8

    blank = 0

    def __post_init__(self):
        check_size("T", self.T, 1)
        check_size("n_copy", self.n_copy, 1)
        check_size("n_symbols", self.n_symbols, 2)

    @property
    def delimiter(self) -> int:
        return self.n_symbols + 1

    @property
    def input_size(self) -> int:
        return self.n_symbols + 2  # blank, symbols, delimiter

    @property
    def output_size(self) -> int:
        return self.n_symbols + 1  # blank, symbols (the delimiter is never a target)

    @property
    def length(self) -> int:
        return self.T + 2 * self.n_copy

    @property
    def baseline(self) -> float:
        return self.n_copy * math.log(self.n_symbols) / self.length

    def sample(self, batch_size: int, generator: torch.Generator):
        """Return one-hot `x` (batch, T + 20, 10) and symbol targets `y` (batch, T + 20)."""
        check_size("batch_size", batch_size, 1)
        k = self.n_copy
        symbols = torch.randint(1, self.n_symbols + 1, (batch_size, k), generator=generator)
        tokens = torch.zeros(batch_size, self.length, dtype=torch.long)
        tokens[:, :k] = symbols
        tokens[:, self.T + k - 1] = self.delimiter
        y = torch.zeros(batch_size, self.length, dtype=torch.long)
        y[:, -k:] = symbols
        return F.one_hot(tokens, self.input_size).float(), y

    def loss(self, outputs, y):
        return F.cross_entropy(outputs.flatten(0, 1), y.flatten())

    def accuracy(self, outputs, y) -> float:
        """Fraction of the 10 recalled symbols that are right."""
        k = self.n_copy
        return float((outputs[:, -k:].argmax(-1) == y[:, -k:]).float().mean())


# --------------------------------------------------------------------------------------
# Long-range recall
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recall:
    r"""Name the subject seen at the start, `gap` distractors later.

    The intuition it mirrors: a paragraph opens with "I grew up in *India*", and
    many words later "... I speak fluent ___" needs that first word. The input
    is a subject token (one of `n_subjects`), then `gap` distractor tokens,
    then a query token; at the query the model must output the first subject.
    Distractors are drawn uniformly from `n_distractors` filler tokens and,
    with `subject_distractors=True` (the default), from the subjects too:
    later mentions of other subjects, as a text would have, so that holding
    on to the *last* subject seen is no strategy. Scored by cross-entropy (and accuracy)
    at the last step.

    The distractors are independent of the subject, so a memoryless model
    can only guess: $\mathcal{L}_0 = \ln K$ with
    accuracy $1/K$, $K$ = `n_subjects`.
    """

    gap: int = 20
    n_subjects: int = 8
    n_distractors: int = 16
    subject_distractors: bool = True

    def __post_init__(self):
        check_size("gap", self.gap, 0)
        check_size("n_subjects", self.n_subjects, 2)
        check_size("n_distractors", self.n_distractors, 1)

    @property
    def query(self) -> int:
        return self.n_subjects + self.n_distractors

    @property
    def input_size(self) -> int:
        return self.n_subjects + self.n_distractors + 1

    @property
    def output_size(self) -> int:
        return self.n_subjects

    @property
    def baseline(self) -> float:
        return math.log(self.n_subjects)

    def sample(self, batch_size: int, generator: torch.Generator):
        """Return one-hot `x` (batch, gap + 2, input_size) and the subject `y` (batch,)."""
        check_size("batch_size", batch_size, 1)
        subject = torch.randint(0, self.n_subjects, (batch_size,), generator=generator)
        low = 0 if self.subject_distractors else self.n_subjects
        distractors = torch.randint(low, self.query, (batch_size, self.gap), generator=generator)
        query = torch.full((batch_size, 1), self.query)
        tokens = torch.cat([subject[:, None], distractors, query], dim=1)
        return F.one_hot(tokens, self.input_size).float(), subject

    def loss(self, outputs, y):
        return F.cross_entropy(outputs[:, -1], y)

    def accuracy(self, outputs, y) -> float:
        return float((outputs[:, -1].argmax(-1) == y).float().mean())


# --------------------------------------------------------------------------------------
# Character-level language model on torch's own source
# --------------------------------------------------------------------------------------

UNKNOWN = "\x00"  # stands for any character the training split never shows


def torch_source_files(subdir: str = "nn") -> list[pathlib.Path]:
    """The `.py` files under the installed `torch/<subdir>`, sorted by relative path.

    torch is pinned exactly in requirements.txt, so every machine that installs
    it gets the same files: the corpus needs no download and never changes.
    """
    root = pathlib.Path(torch.__file__).parent
    files = sorted((root / subdir).rglob("*.py"), key=lambda p: p.relative_to(root).as_posix())
    if not files:
        raise FileNotFoundError(f"no .py files under {root / subdir}")
    return files


@dataclass(frozen=True)
class CharCorpus:
    r"""Next-character prediction on the Python source of `torch/nn`.

    Files are sorted by path; every `val_every`-th file (indices 0, 10, 20,
    ... for the default 10) is validation, the rest training: a split by file,
    so no function is half in each. The vocabulary is the set of characters of
    the training split plus `UNKNOWN`. Scored in bits per character,

    $$
    \mathrm{bpc} = -\frac{1}{N}\sum_t \log_2 p(x_{t+1} \mid x_{\le t}),
    \qquad \text{perplexity} = 2^{\mathrm{bpc}}.
    $$

    The baseline is the unigram model: character frequencies counted on the
    training split (add-one smoothed), scored on the validation split.

    `held_out=True` halves the validation files into a validation split (the 1st, 3rd, ...
    of them) and a test split (the 2nd, 4th, ...), for experiments that choose settings on
    validation data and report on data the choice never saw: `validation()` then reads the
    first half, `test()` the second, and the baseline is scored on the test split.
    """

    subdir: str = "nn"
    val_every: int = 10
    seq_len: int = 64
    held_out: bool = False
    train_text: str = field(init=False, repr=False, compare=False)
    val_text: str = field(init=False, repr=False, compare=False)
    vocab: str = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_size("val_every", self.val_every, 2)
        check_size("seq_len", self.seq_len, 1)
        files = torch_source_files(self.subdir)
        texts = [f.read_text(encoding="utf-8") for f in files]
        train = "\n".join(t for i, t in enumerate(texts) if i % self.val_every != 0)
        held = [t for i, t in enumerate(texts) if i % self.val_every == 0]
        val = "\n".join(held[0::2] if self.held_out else held)
        object.__setattr__(self, "train_text", train)
        object.__setattr__(self, "val_text", val)
        object.__setattr__(self, "vocab", UNKNOWN + "".join(sorted(set(train) - {UNKNOWN})))
        object.__setattr__(self, "_train_ids", self.encode(train))
        object.__setattr__(self, "_val_ids", self.encode(val))
        object.__setattr__(self, "_test_ids", self.encode("\n".join(held[1::2])) if self.held_out else None)

    def encode(self, text: str) -> torch.Tensor:
        """Character ids; a character outside the vocabulary maps to `UNKNOWN` (id 0)."""
        # Vectorised lookup on code points: a dict lookup per character takes seconds.
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        known = np.frombuffer(self.vocab.encode("utf-32-le"), dtype=np.uint32)  # sorted after 0
        ids = np.searchsorted(known[1:], codes) + 1
        ids = np.minimum(ids, len(known) - 1)
        ids[known[ids] != codes] = 0
        return torch.from_numpy(ids.astype(np.int64))

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of both splits: equal on every machine with the same torch."""
        return hashlib.sha256((self.train_text + "\x01" + self.val_text).encode()).hexdigest()

    @property
    def input_size(self) -> int:
        return len(self.vocab)

    @property
    def output_size(self) -> int:
        return len(self.vocab)

    @property
    def baseline(self) -> float:
        """Unigram cross-entropy on the validation split (the test split if `held_out`), in nats per character."""
        counts = torch.bincount(self._train_ids, minlength=len(self.vocab)).double() + 1.0
        log_p = (counts / counts.sum()).log()
        return float(-log_p[self._val_ids if self._test_ids is None else self._test_ids].mean())

    @property
    def baseline_bpc(self) -> float:
        return self.baseline / math.log(2)

    def _windows(self, ids: torch.Tensor, starts: torch.Tensor):
        idx = starts[:, None] + torch.arange(self.seq_len + 1)
        chunk = ids[idx]
        return F.one_hot(chunk[:, :-1], len(self.vocab)).float(), chunk[:, 1:]

    def sample(self, batch_size: int, generator: torch.Generator):
        """Random training windows: one-hot `x` (batch, seq_len, V) and next characters `y`."""
        check_size("batch_size", batch_size, 1)
        high = len(self._train_ids) - self.seq_len - 1
        starts = torch.randint(0, high, (batch_size,), generator=generator)
        return self._windows(self._train_ids, starts)

    def validation(self, n_windows: int = 256):
        """Fixed, evenly spaced windows over the validation split (no randomness)."""
        return self._spread(self._val_ids, n_windows)

    def test(self, n_windows: int = 256):
        """Fixed, evenly spaced windows over the test split (`held_out=True` only)."""
        if self._test_ids is None:
            raise ValueError("CharCorpus.test: expected a corpus built with held_out=True, got held_out=False")
        return self._spread(self._test_ids, n_windows)

    def _spread(self, ids: torch.Tensor, n_windows: int):
        high = len(ids) - self.seq_len - 1
        starts = torch.linspace(0, high, n_windows).long()
        return self._windows(ids, starts)

    def loss(self, outputs, y):
        return F.cross_entropy(outputs.flatten(0, 1), y.flatten())

    def accuracy(self, outputs, y) -> float:
        return float((outputs.argmax(-1) == y).float().mean())


def make_task(name: str, **kwargs):
    """Build a task by name: `adding`, `copy`, `recall`, `char` or `parity`."""
    tasks = {"adding": AddingProblem, "copy": CopyMemory, "recall": Recall, "char": CharCorpus, "parity": Parity}
    if name not in tasks:
        raise ValueError(f"unknown task {name!r}; expected one of {sorted(tasks)}")
    return tasks[name](**kwargs)


# --------------------------------------------------------------------------------------
# Parity
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parity:
    r"""Say, at every step, whether the bits seen so far hold an odd number of ones.

    The input is a random bit string (one-hot, $P(1) = \tfrac12$); the target at step $t$ is the
    running parity $y_t = x_1 \oplus \dots \oplus x_t$, a two-state automaton that flips on each 1.
    Lengths vary: one length per batch, drawn uniformly from `[min_length, max_length]`, so a
    batch stays one tensor with no padding. Train on 3 to 40 steps; test length generalisation on
    `dataclasses.replace(task, min_length=40, max_length=256)`.

    Why a target at every step rather than only at the end: the running target trains the flip at
    every step, one bit back at a time. The parity of a whole string is uncorrelated with the
    parity of any part of it, so a model that tracks part of the string scores no better than
    chance at the end, and gradient descent finds next to no slope towards the solution. Scored
    by cross-entropy over all steps; `accuracy` reads the last step only, the parity of the whole
    string, which on the long test strings only a model that learnt the automaton gets right.
    (A linear recurrence whose coefficients $a_t$ lie in $(0, 1)$, as minGRU's and minLSTM's
    do, has no sign to flip with; Grazzi et al. 2024 prove that such a layer cannot solve parity
    at every length.)

    Memoryless baseline: at step 1 the target is the bit itself; after that it is the current bit
    XOR an unseen fair coin, so the best guess is $\tfrac12$, costing $\ln 2$. For a batch of length
    $L$ the loss is $\tfrac{L - 1}{L} \ln 2$; averaged over the lengths drawn,

    $$
    \mathcal{L}_0 = \ln 2 \cdot \frac{1}{L_{\max} - L_{\min} + 1} \sum_{L = L_{\min}}^{L_{\max}} \frac{L - 1}{L},
    $$

    with last-step accuracy $\tfrac12$.
    """

    min_length: int = 3
    max_length: int = 40

    input_size = 2
    output_size = 2

    def __post_init__(self):
        check_size("min_length", self.min_length, 1)
        check_size("max_length", self.max_length, self.min_length)

    @property
    def baseline(self) -> float:
        lengths = range(self.min_length, self.max_length + 1)
        return math.log(2) * sum((n - 1) / n for n in lengths) / len(lengths)

    def sample(self, batch_size: int, generator: torch.Generator):
        """Return one-hot `x` (batch, L, 2) and running parities `y` (batch, L), one L per batch."""
        check_size("batch_size", batch_size, 1)
        length = int(torch.randint(self.min_length, self.max_length + 1, (1,), generator=generator))
        bits = torch.randint(0, 2, (batch_size, length), generator=generator)
        return F.one_hot(bits, 2).float(), bits.cumsum(1) % 2

    def loss(self, outputs, y):
        """Cross-entropy averaged over every step of every sequence."""
        return F.cross_entropy(outputs.flatten(0, 1), y.flatten())

    def accuracy(self, outputs, y) -> float:
        """Fraction of sequences whose whole-string parity (the last step) is right."""
        return float((outputs[:, -1].argmax(-1) == y[:, -1]).float().mean())
