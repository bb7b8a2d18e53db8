"""The parity task: running-parity targets, one length per batch, and its memoryless baseline."""

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from snippets.seeding import data_generator
from snippets.tasks import Parity, make_task


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: a second thread only adds hand-offs, which a busy machine makes slow."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_targets_are_the_running_parity_of_the_bits():
    x, y = Parity().sample(64, data_generator(0))
    bits = x.argmax(-1)
    assert x.shape[:2] == y.shape and x.shape[-1] == 2
    assert torch.equal(x.sum(-1), torch.ones(y.shape))  # one-hot
    parity = torch.zeros(64, dtype=torch.long)
    for t in range(y.shape[1]):
        parity = parity ^ bits[:, t]
        assert torch.equal(y[:, t], parity)


def test_one_length_per_batch_covering_the_range():
    g = data_generator(1)
    train = Parity()
    lengths = {train.sample(4, g)[0].shape[1] for _ in range(400)}
    assert lengths == set(range(3, 41))
    test = dataclasses.replace(train, min_length=40, max_length=256)
    long = [test.sample(2, g)[1].shape[1] for _ in range(300)]
    assert min(long) >= 40 and max(long) <= 256 and len(set(long)) > 100


def test_bits_are_fair_and_samples_repeat_with_the_seed():
    x, _ = Parity(200, 200).sample(500, data_generator(2))
    assert float(x[..., 1].mean()) == pytest.approx(0.5, abs=0.01)
    again, _ = Parity(200, 200).sample(500, data_generator(2))
    assert torch.equal(x, again)


def memoryless_logits(x):
    """The best predictor that sees only the current bit: certain at step 1, a coin flip after."""
    logits = torch.zeros(*x.shape[:2], 2)
    logits[:, 0] = (x[:, 0] - 0.5) * 1e4
    return logits


def test_baseline_is_what_the_best_memoryless_predictor_scores():
    task = Parity()
    g = data_generator(3)
    losses = []
    for _ in range(500):
        x, y = task.sample(8, g)
        loss = float(task.loss(memoryless_logits(x), y))
        length = x.shape[1]
        assert loss == pytest.approx(math.log(2) * (length - 1) / length, rel=1e-6)
        losses.append(loss)
    assert sum(losses) / len(losses) == pytest.approx(task.baseline, rel=0.01)
    expected = math.log(2) * sum((n - 1) / n for n in range(3, 41)) / 38
    assert task.baseline == pytest.approx(expected)
    assert Parity(1, 1).baseline == 0.0  # one bit: its parity is the bit itself


def test_accuracy_reads_the_whole_strings_parity():
    task = Parity(40, 256)
    g = data_generator(4)
    x, y = task.sample(4000, g)
    perfect = F.one_hot(y, 2).float()
    assert task.accuracy(perfect, y) == 1.0
    assert float(task.loss(perfect * 1e4, y)) < 1e-6
    # Echoing the current bit, a memoryless guess, gets the whole string's parity right by chance only.
    assert task.accuracy(x, y) == pytest.approx(0.5, abs=0.03)
    wrong_at_the_end = perfect.clone()
    wrong_at_the_end[:, -1] = 1 - wrong_at_the_end[:, -1]
    assert task.accuracy(wrong_at_the_end, y) == 0.0


def test_make_task_and_bad_lengths():
    assert make_task("parity", max_length=10) == Parity(3, 10)
    with pytest.raises(ValueError, match="expected max_length >= 5, got 4"):
        Parity(5, 4)
    with pytest.raises(ValueError, match="expected min_length >= 1, got 0"):
        Parity(0, 4)
    with pytest.raises(TypeError, match="expected batch_size to be an int"):
        Parity().sample(2.0, data_generator(0))
