"""Tasks: construction, and each memoryless baseline checked against a direct computation."""

import collections
import math

import pytest
import torch

from snippets.seeding import data_generator
from snippets.tasks import UNKNOWN, AddingProblem, CharCorpus, CopyMemory, Recall, make_task


def gen(seed=0):
    return data_generator(seed)


def test_adding_arjovsky_marks_one_value_in_each_half_and_sums_them():
    task = AddingProblem(T=50)
    x, y = task.sample(256, gen())
    values, markers = x[..., 0], x[..., 1]
    assert x.shape == (256, 50, 2) and y.shape == (256, 1)
    assert torch.equal(markers[:, :25].sum(1), torch.ones(256))
    assert torch.equal(markers[:, 25:].sum(1), torch.ones(256))
    assert ((values >= 0) & (values <= 1)).all()
    assert torch.allclose(y[:, 0], (values * markers).sum(1))


def test_adding_arjovsky_baseline_is_the_variance_of_the_target():
    task = AddingProblem(T=20)
    _, y = task.sample(400_000, gen(1))
    # The best constant is the target's mean; its MSE is the target's variance.
    assert abs(float(y.mean()) - 1.0) < 0.01
    assert task.baseline == pytest.approx(1 / 6)
    assert float(((y - y.mean()) ** 2).mean()) == pytest.approx(task.baseline, rel=0.01)


def test_adding_hochreiter_follows_the_1997_construction():
    task = AddingProblem(T=100, variant="hochreiter")
    g = gen(2)
    lengths = set()
    for _ in range(20):
        x, y = task.sample(64, g)
        lengths.add(x.shape[1])
        values, markers = x[..., 0], x[..., 1]
        marked = markers == 1
        assert torch.equal(marked.sum(1), torch.full((64,), 2))
        first = marked.float().argmax(1)
        assert (first < 10).all()
        assert (marked[:, 50:].sum(1) == 0).all()  # second mark among the first T/2 - 1 unmarked
        assert (markers[:, -1] == -1).all()
        assert ((markers[:, 0] == -1) | (marked[:, 0] & (values[:, 0] == 0))).all()
        assert torch.allclose(y[:, 0], 0.5 + (values * marked).sum(1) / 4)
    assert min(lengths) >= 100 and max(lengths) <= 110 and len(lengths) > 1


def test_adding_hochreiter_baseline_matches_monte_carlo():
    task = AddingProblem(T=30, variant="hochreiter")
    g = gen(3)
    y = torch.cat([task.sample(4096, g)[1] for _ in range(50)])
    assert float(((y - 0.5) ** 2).mean()) == pytest.approx(task.baseline, rel=0.02)
    # The memoryless prediction 0.5 is scored by Hochreiter & Schmidhuber's criterion too.
    assert 0 < task.accuracy(torch.full((len(y), 1, 1), 0.5), y) < 0.2


def test_copy_memory_layout_and_baseline():
    task = CopyMemory(T=15)
    x, y = task.sample(32, gen())
    tokens = x.argmax(-1)
    assert x.shape == (32, 35, 10) and y.shape == (32, 35)
    assert ((tokens[:, :10] >= 1) & (tokens[:, :10] <= 8)).all()
    assert (tokens[:, 24] == task.delimiter).all()
    assert torch.equal(y[:, -10:], tokens[:, :10])
    assert (y[:, :-10] == 0).all() and (tokens[:, 10:24] == 0).all() and (tokens[:, 25:] == 0).all()
    # The memoryless predictor: blank for sure, then uniform over the 8 symbols.
    logits = torch.full((32, 35, 9), -1e9)
    logits[:, :-10, 0] = 0.0
    logits[:, -10:, 1:] = 0.0
    assert float(task.loss(logits, y)) == pytest.approx(10 * math.log(8) / 35, rel=1e-6)
    assert task.baseline == pytest.approx(10 * math.log(8) / 35)


def test_recall_target_is_the_first_token_and_chance_is_log_k():
    task = Recall(gap=40)
    x, y = task.sample(512, gen())
    tokens = x.argmax(-1)
    assert x.shape == (512, 42, task.input_size)
    assert torch.equal(tokens[:, 0], y)
    assert (tokens[:, -1] == task.query).all()
    assert (tokens[:, 1:-1] < task.n_subjects).any()  # other subjects appear as distractors
    uniform = torch.zeros(512, 42, task.output_size)
    assert float(task.loss(uniform, y)) == pytest.approx(task.baseline)
    assert task.baseline == pytest.approx(math.log(8))
    x, _ = Recall(gap=40, subject_distractors=False).sample(512, gen())
    assert (x.argmax(-1)[:, 1:-1] >= task.n_subjects).all()


@pytest.fixture(scope="module")
def corpus():
    return CharCorpus()


def test_char_corpus_is_reproducible_and_split_by_file(corpus):
    again = CharCorpus()
    assert again.fingerprint == corpus.fingerprint
    assert len(corpus.train_text) > 10 * len(corpus.val_text) / 2 > 0
    assert corpus.vocab[0] == UNKNOWN and len(set(corpus.vocab)) == len(corpus.vocab)
    assert set(corpus.train_text) <= set(corpus.vocab)
    assert corpus.decode(corpus.encode("def f(x):\n")) == "def f(x):\n"
    assert corpus.encode("\u2603").tolist() == [0]


def test_char_windows_predict_the_next_character(corpus):
    x, y = corpus.sample(8, gen())
    assert x.shape == (8, 64, len(corpus.vocab))
    assert torch.equal(x.argmax(-1)[:, 1:], y[:, :-1])


def test_char_unigram_baseline_matches_direct_count(corpus):
    counts = collections.Counter(corpus.train_text)
    total = len(corpus.train_text) + len(corpus.vocab)  # add-one smoothing over the vocabulary
    val = corpus.val_text
    nats = -sum(math.log((counts.get(ch if ch in counts else UNKNOWN, 0) + 1) / total) for ch in val)
    assert corpus.baseline == pytest.approx(nats / len(val), rel=1e-6)
    assert 3 < corpus.baseline_bpc < 7


@pytest.mark.parametrize(
    "make",
    [
        lambda: AddingProblem(T=0),
        lambda: AddingProblem(variant="other"),
        lambda: AddingProblem(T=10, variant="hochreiter"),
        lambda: CopyMemory(T=0),
        lambda: Recall(gap=-1),
        lambda: make_task("nope"),
        lambda: CopyMemory().sample(0, gen()),
    ],
)
def test_bad_configs_name_what_was_expected_and_got(make):
    with pytest.raises(ValueError, match=r"(must|needs|expected).*got|expected one of"):
        make()


def test_same_seed_same_data_different_seed_different_data():
    task = AddingProblem(T=30)
    assert torch.equal(task.sample(4, gen(5))[0], task.sample(4, gen(5))[0])
    assert not torch.equal(task.sample(4, gen(5))[0], task.sample(4, gen(6))[0])


def test_a_held_out_corpus_halves_its_validation_files_into_validation_and_test():
    whole, held = CharCorpus(), CharCorpus(held_out=True)
    assert held.train_text == whole.train_text and held.vocab == whole.vocab
    assert 0 < len(held.val_text) < len(whole.val_text)
    x_val, _ = held.validation(8)
    x_test, _ = held.test(8)
    assert x_val.shape == x_test.shape and not torch.equal(x_val, x_test)
    with pytest.raises(ValueError, match="held_out=True"):
        whole.test()
