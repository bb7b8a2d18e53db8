"""The real-text experiments: the text model, the search for units, the regions, the samples.

Budgets are tiny (the text model trains for a few dozen steps): the tests check what the page
reads and that the computations are right, not the page's numbers. No test times anything.
"""

import math

import pytest
import torch

from snippets import experiments as ex
from snippets import interpret, seeding, tasks, train
from snippets.experiments.real_text import train_text_model

TINY_MODEL = ex.TextModelConfig(hidden_size=16, seq_len=32, steps=30, batch_size=8, eval_every=10)
TINY = ex.TextUnitsConfig(model=TINY_MODEL, max_chars=800, excerpt_lines=6, sample_chars=40)


@pytest.fixture(scope="module")
def units():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SNIPPETS_CACHE", "off")
        mp.setenv("SNIPPETS_WORKERS", "1")
        return ex.text_units(TINY, cache=False)


@pytest.fixture(scope="module")
def model():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SNIPPETS_CACHE", "off")
        mp.setenv("SNIPPETS_WORKERS", "1")
        return ex.text_model(TINY_MODEL, cache=False)


def test_text_model_learns_and_keeps_its_weights(model):
    assert len(model["val_bpc"]) == 3 and model["val_step"] == [10, 20, 30]
    assert model["val_bpc"][-1] < model["val_bpc"][0]
    assert model["baseline_bpc"] == pytest.approx(tasks.CharCorpus().baseline_bpc)
    assert model["state_dict"]["rnn.weight_hh_l0"].shape == (4 * 16, 16)
    assert model["status"] == "budget" and model["steps_run"] == 30
    assert model["cpu_seconds"] > 0 and model["seed"] == seeding.seed(0)
    assert model["train_chars"] == len(tasks.CharCorpus().train_text)


def test_text_model_takes_its_seed_from_the_seed_base(monkeypatch):
    monkeypatch.setenv("SNIPPETS_SEED_BASE", "1000")
    config = ex.TextModelConfig(hidden_size=4, seq_len=8, steps=2, batch_size=2, eval_every=2)
    log = train_text_model(config, seeding.seed(config.seed))
    assert log["config"]["seed"] == 1000


def test_unit_traces_agree_with_torch_nn(model):
    corpus = tasks.CharCorpus(seq_len=32)
    texts = ["def f(x):\n    return x\n", "a = [1, 2]\n"]
    traces = ex.unit_traces(model["state_dict"], corpus, texts, keys=("c", "h"))
    net = train.SequenceModel("lstm", len(corpus.vocab), 16, len(corpus.vocab))
    net.load_state_dict(model["state_dict"])
    for text, trace in zip(texts, traces):
        x = torch.nn.functional.one_hot(corpus.encode(text), len(corpus.vocab)).float()[None]
        with torch.no_grad():
            h, _ = net.rnn(x)
        assert trace.shape == (len(text), 32)
        torch.testing.assert_close(trace[:, 16:], h[0], atol=1e-5, rtol=1e-5)  # the h half


def test_text_units_returns_what_the_page_reads(units):
    features = {"in_string", "in_comment", "bracket_depth", "indent", "column"}
    for name in ("trained", "untrained"):
        best = units[name]["best"]
        assert {u["feature"] for u in best} == features
        assert all(u["trace"] in ("c", "h") and 0 <= u["unit"] < 16 and -1 <= u["correlation"] <= 1 for u in best)
        assert [abs(u["correlation"]) for u in best] == sorted((abs(u["correlation"]) for u in best), reverse=True)
        for feature, ranked in units[name]["ranked"].items():
            assert len(ranked) == TINY.top
            assert ranked[0]["column"] == next(u["column"] for u in best if u["feature"] == feature)
            assert [abs(r["correlation"]) for r in ranked] == sorted(abs(r["correlation"]) for r in ranked)[::-1]
    assert units["chars"] == sum(min(len(t), 800) for _, t in ex.validation_texts(tasks.CharCorpus()))
    excerpt = units["excerpt"]
    assert excerpt["text"].count("\n") == TINY.excerpt_lines - 1
    for u in excerpt["units"].values():
        assert len(u["values"]) == len(excerpt["text"]) and u["scale"] > 0
    assert all(len(v) == len(excerpt["text"]) for v in excerpt["features"].values())
    for sample, temperature in zip(units["samples"], TINY.temperatures):
        assert sample["temperature"] == temperature and sample["seed"] == seeding.seed(TINY.sample_seed)
        assert sample["text"].startswith(TINY.prime) and len(sample["text"]) == len(TINY.prime) + 40


def test_the_search_is_the_correlation_of_each_trace(units):
    """The best unit's correlation is the one `interpret.correlations` gives for its column."""
    corpus = tasks.CharCorpus(seq_len=TINY_MODEL.seq_len)
    model = ex.text_model(TINY_MODEL, cache=False)
    files = ex.validation_texts(corpus)
    texts = [t[: TINY.max_chars] for _, t in files]
    acts = torch.cat(ex.unit_traces(model["state_dict"], corpus, texts))
    strings = torch.cat([interpret.source_features(t)["in_string"][: TINY.max_chars] for _, t in files])
    best = next(u for u in units["trained"]["best"] if u["feature"] == "in_string")
    rho = interpret.correlations(acts, strings)
    assert float(rho[best["column"]]) == pytest.approx(best["correlation"], abs=1e-6)
    assert int(rho.abs().argmax()) == best["column"]
    separation = interpret.separation(acts[:, best["column"]] * math.copysign(1, best["correlation"]), strings)
    assert units["binary"]["in_string"]["trained"]["auc"] == pytest.approx(separation["auc"], abs=1e-9)


def test_binary_features_have_their_separation_and_histograms(units):
    for feature in TINY.binary:
        for name in ("trained", "untrained"):
            data = units["binary"][feature][name]
            assert 0 <= data["auc"] <= 1
            assert len(data["edges"]) == TINY.bins + 1 and len(data["inside"]) == len(data["outside"]) == TINY.bins
            # shares of each side's characters; the 1 % of all values beyond the range fall in no bin
            assert 0.5 < sum(data["inside"]) <= 1 + 1e-6 and 0.9 < sum(data["outside"]) <= 1 + 1e-6
        # the unit is turned to rise with the feature: its mean inside is the larger one
        trained = units["binary"][feature]["trained"]
        assert trained["mean_inside"] >= trained["mean_outside"]


def test_regions_split_every_predicted_character(units):
    regions = units["regions"]
    assert set(regions) == {"code", "in_string", "in_comment"}
    files = len(units["files"])
    assert sum(r["chars"] for r in regions.values()) == units["chars"] - files  # the first of each is not predicted
    assert all(r["bpc"] > 0 and r["unigram_bpc"] > 0 for r in regions.values())


def test_docstrings_are_the_triple_quoted_strings(units):
    text = 'def f():\n    """Doc."""\n    x = "a"\n    y = r\'\'\'b\nc\'\'\'\n'
    assert [text[a:b] for a, b in ex.real_text.docstring_spans(text)] == ['"""Doc."""', "r'''b\nc'''"]
    docstrings = units["docstrings"]
    assert docstrings["count"] > 0 and docstrings["median_chars"] > 6
    assert 0 < docstrings["share_of_string_chars"] <= 1


def test_excerpt_is_the_text_of_the_file_it_names(units):
    texts = dict(ex.validation_texts(tasks.CharCorpus()))
    excerpt = units["excerpt"]
    lines = texts[excerpt["file"]].splitlines()
    first = excerpt["first_line"] - 1
    assert excerpt["text"] == "\n".join(lines[first : first + TINY.excerpt_lines])


def test_busy_window_finds_the_lines_with_strings_comments_brackets_and_a_docstring():
    plain = "x = 1\n" * 10
    busy = 'def f():\n    """A\n    docstring."""\n    y = g("a")  # note\n    z = [h("b")]  # more\n'
    text = plain + busy + plain
    first, _ = ex.busy_window(interpret.source_features(text), text, 5)
    assert first == 10


def test_generate_is_seeded_and_uses_the_temperature(model):
    corpus = tasks.CharCorpus(seq_len=32)
    args = (model["state_dict"], corpus, 16, "def ", 60)
    assert ex.generate(*args, temperature=1.0, seed=3) == ex.generate(*args, temperature=1.0, seed=3)
    assert ex.generate(*args, temperature=1.0, seed=3) != ex.generate(*args, temperature=0.3, seed=3)
    with pytest.raises(ValueError, match="temperature"):
        ex.generate(*args, temperature=0.0, seed=3)


def test_validation_texts_are_the_corpus_validation_split():
    corpus = tasks.CharCorpus()
    assert "\n".join(text for _, text in ex.validation_texts(corpus)) == corpus.val_text
    assert not math.isnan(corpus.baseline_bpc)
