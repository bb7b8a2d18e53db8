"""The modern-cells page's experiments: batched parity training equals training alone, the rate is
chosen on validation loss, the timings have the promised shape, and the numerical demonstrations
show what the page says they show."""

import dataclasses
import math

import pytest
import torch
from torch import nn

from snippets import seeding
from snippets.experiments import modern
from snippets.experiments.modern import ParityConfig
from snippets.min_rnn import MinGRU
from snippets.slstm import SLSTM
from snippets.tasks import Parity
from snippets.train import SequenceModel
from snippets.variants import set_forget_bias

TINY = ParityConfig(
    hidden_size=4, seeds=2, lrs=(0.03, 0.1), steps=4, batch_size=3, val_size=4, test_size=3, test_length=12
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: a second thread only adds hand-offs, which a busy machine makes slow."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def alone(name: str, seed: int, lr: float, config: ParityConfig, first_seed: int) -> dict:
    """One member trained by itself: its own model, torch.optim.Adam, clip_grad_norm_, the same strings."""
    layer_class, forget_bias = modern.PARITY_MODELS[name]
    task = Parity(config.min_length, config.max_length)
    seeding.seed_everything(seed)
    if layer_class is None:
        model = SequenceModel(name[:4] if name.startswith("lstm") else name, 2, config.hidden_size, 2)
        if forget_bias is not None:
            set_forget_bias(model.rnn, forget_bias)
    else:
        layer = layer_class(task.input_size, config.hidden_size, batch_first=True)
        model = SequenceModel(name, task.input_size, config.hidden_size, task.output_size, layer=layer)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    data, lengths = seeding.data_generator(seed, 0), seeding.data_generator(first_seed, 3)
    for _ in range(config.steps):
        length = int(torch.randint(config.min_length, config.max_length + 1, (1,), generator=lengths))
        x, y = Parity(length, length).sample(config.batch_size, data)
        loss = task.loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
    return {n: p.detach() for n, p in model.named_parameters()}


def input_gate_bias_left_out(name: str, param: str, value: torch.Tensor) -> torch.Tensor:
    """The sLSTM's input-gate bias moves every log-gate of a unit by the same amount, which scales its
    c_t and n_t alike and leaves h_t = o c_t / n_t unchanged: its gradient is zero up to rounding,
    and Adam turns rounding noise of either sign into steps of about the learning rate. Left out;
    the outputs are compared instead."""
    if name != "slstm" or param != "rnn.bias":
        return value
    H = value.shape[-1] // 4
    return torch.cat([value[..., :H], value[..., 2 * H :]], dim=-1)


@pytest.mark.parametrize("name", ["gru", "lstm_fb1", "min_gru", "min_lstm", "slstm"])
def test_each_member_trains_as_it_would_alone(name):
    seeds = (3, 7)
    params, forward, _, _ = modern.train_members(name, TINY, seeds)
    x, _ = Parity(9, 9).sample(4, seeding.data_generator(11))
    with torch.no_grad():
        outputs = forward(params, x.expand(len(TINY.lrs) * len(seeds), *x.shape))
    for k, (lr, seed) in enumerate((lr, seed) for lr in TINY.lrs for seed in seeds):
        expected = alone(name, seed, lr, TINY, seeds[0])
        for param, value in expected.items():
            got, want = (input_gate_bias_left_out(name, param, v) for v in (params[param][k], value))
            assert torch.allclose(got, want, atol=1e-5), f"{name} member {k}: {param}"
        model = modern._members(name, Parity(), TINY.hidden_size, (seed,))[1]
        model.load_state_dict(expected)
        with torch.no_grad():
            assert torch.allclose(outputs[k], model(x), atol=1e-5), f"{name} member {k}: outputs"


def test_min_rnn_engine_equals_the_module_in_both_modes():
    torch.manual_seed(0)
    layers = [MinGRU(2, 5, batch_first=True) for _ in range(3)]
    readouts = [nn.Linear(5, 2) for _ in range(3)]
    models = [SequenceModel("min_gru", 2, 5, 2, layer=layer) for layer in layers]
    for model, readout in zip(models, readouts):
        model.readout = readout
    params = {n: torch.stack([dict(m.named_parameters())[n] for m in models]) for n, _ in models[0].named_parameters()}
    x = torch.randn(3, 4, 9, 2)
    out = modern._min_rnn_engine(MinGRU)(params, x)
    for k, model in enumerate(models):
        assert torch.allclose(out[k], model(x[k]), atol=1e-6)  # SequenceModel runs the scan


def test_rate_with_lowest_mean_validation_loss_is_chosen_and_a_diverged_one_never():
    assert modern.choose_rate([[0.5, 0.5], [0.1, 0.3], [0.2, 0.1]]) == 2
    assert modern.choose_rate([[0.5, 0.5], [0.0, math.nan], [0.3, 0.3]]) == 2
    assert modern.choose_rate([[math.inf], [math.nan]]) == 0


def test_accuracy_by_position_is_the_parity_of_each_prefix():
    x, y = Parity(6, 6).sample(5, seeding.data_generator(0))
    perfect = torch.nn.functional.one_hot(y, 2).float()
    assert torch.equal(modern._accuracy_by_position(perfect[None], y[None]), torch.ones(1, 6, dtype=torch.float64))
    wrong_from_3 = perfect.clone()
    wrong_from_3[:, 2:] = 1 - wrong_from_3[:, 2:]
    accuracy = modern._accuracy_by_position(wrong_from_3[None], y[None])[0]
    assert accuracy[:2].tolist() == [1.0, 1.0] and accuracy[2:].max() == 0.0


def test_parity_members_reports_every_rate_and_tests_the_chosen_one():
    run = modern.parity_members("gru", dataclasses.asdict(TINY), (0, 1))
    assert len(run["val_loss"]) == len(TINY.lrs) and all(len(v) == 2 for v in run["val_loss"])
    assert run["lr"] == TINY.lrs[modern.choose_rate(run["val_loss"])]
    assert torch.tensor(run["test_accuracy"]).shape == (2, TINY.test_length)
    assert run["n_params"] == sum(p.numel() for p in SequenceModel("gru", 2, 4, 2).parameters())


def test_parity_rejects_unknown_models():
    with pytest.raises(ValueError, match="models must be a non-empty subset"):
        modern.parity(dataclasses.replace(TINY, models=("transformer",)), cache=False)


def test_scan_speed_has_one_time_per_candidate_length_and_width():
    config = modern.ScanSpeedConfig(batch=2, hidden=2, lengths=(4, 8), widths=(3,), at_length=8, repeats=1)
    result = modern.scan_speed(config, cache=False)
    for name, seconds in result["by_length"]["seconds"].items():
        assert len(seconds) == 2 and all(s > 0 for s in seconds), name
    assert result["by_width"]["hidden"] == [2, 3]
    assert all(len(v) == 2 for v in result["by_width"]["seconds"].values())
    assert result["by_length"]["clock"] == "thread CPU time"
    with pytest.raises(ValueError, match="at_length"):
        modern.scan_speed(dataclasses.replace(config, at_length=16), cache=False)


def test_scan_anatomy_sums_what_the_loop_computes():
    data = modern.scan_anatomy(steps=10, chunk_size=4)
    weights = torch.tensor(data["weights"], dtype=torch.float64)
    assert torch.equal(weights.triu(1), torch.zeros(10, 10)), "the future must not count"
    assert torch.allclose(weights.diagonal(), torch.ones(10, dtype=torch.float64))
    a = torch.tensor(data["a"], dtype=torch.float64)
    assert math.isclose(data["weights"][5][2], float(a[3:6].prod()), rel_tol=1e-12)  # a_4 a_5 a_6
    assert data["max_difference"] < 1e-12


def test_chunks_keep_float32_precision_that_one_pass_loses():
    precision = modern.scan_precision(steps=2048, batch=2, hidden_size=4)
    assert precision["chunked"] * 10 < precision["one_pass"]


def test_unstabilised_slstm_fails_exactly_past_float32s_exponent_limit():
    data = modern.slstm_overflow(scales=(1.0, 20.0, 60.0, 200.0), steps=6, batch=8)
    for largest, bad in zip(data["max_i_tilde"], data["nonfinite_plain"]):
        assert (bad > 0) == (largest > modern.FLOAT32_LOG_MAX)
    assert data["nonfinite_plain"][-1] > 0 and max(data["nonfinite_stable"]) == 0
    assert data["max_gap"][0] < 1e-5


def test_exponential_forget_gate_overflows_the_plain_normaliser_near_step_89():
    data = modern.slstm_exp_forget_growth(steps=100, batch=2)
    first_nan = next(t for t, v in enumerate(data["nonfinite_plain"]) if v > 0)
    assert 80 <= first_nan <= 95
    assert max(data["nonfinite_stable"]) == 0
    assert all(math.isfinite(v) for v in data["log_n_stable"])
    assert math.isclose(data["log_n_stable"][40], data["log_n_plain"][40], rel_tol=1e-5)


def test_slstm_pair_shares_weights_and_differs_only_in_the_stabiliser():
    stable, plain = modern._slstm_pair("sigmoid", 3, 4)
    assert isinstance(stable, SLSTM) and stable.stabilise and not plain.stabilise
    for (name, p), (_, q) in zip(stable.named_parameters(), plain.named_parameters()):
        assert torch.equal(p, q), name
