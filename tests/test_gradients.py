"""Gradient flow: the measurement is right, and the tanh RNN respects lambda_1^k."""

import pytest
import torch

from snippets.gradients import gradient_norms, measure, set_largest_singular_value


@pytest.mark.parametrize("sigma", [0.5, 0.9, 1.0, 1.5, 3.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tanh_rnn_gradient_never_exceeds_lambda_to_the_k(sigma, seed):
    result = measure("rnn", T=60, hidden_size=32, seed=seed, sigma=sigma)
    norms = result["norms"]["h"]  # (batch, T), column k
    assert result["sigma_max"] == pytest.approx(sigma)
    k = torch.arange(norms.shape[1], dtype=torch.float64)
    bound = norms[:, :1] * sigma**k
    assert (norms <= bound * (1 + 1e-9)).all()
    if sigma < 1:
        assert (norms[:, -1] < 1e-3 * norms[:, 0]).all()  # and it does vanish


@pytest.mark.parametrize("kind", [torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU])
def test_measured_gradient_is_the_gradient_of_the_fused_layer(kind):
    """The unrolled measurement agrees with autograd through the torch.nn layer itself."""
    torch.manual_seed(0)
    layer = kind(3, 6, batch_first=True).double()
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    w = torch.randn(6, dtype=torch.float64)
    norms = gradient_norms(layer, x, w)["h"]  # column k = 6 is dL/dh_1, the first state
    # Restart the fused layer from h_1 (a leaf) over the remaining steps.
    with torch.no_grad():
        _, state = layer(x[:, :1])
    if kind is torch.nn.LSTM:
        h1, c1 = (s.clone().requires_grad_(True) for s in state)
        out, _ = layer(x[:, 1:], (h1, c1))
    else:
        h1 = state.clone().requires_grad_(True)
        out, _ = layer(x[:, 1:], h1)
    (out[:, -1] @ w).sum().backward()
    assert torch.allclose(norms[:, 6], h1.grad[0].norm(dim=1))
    assert torch.allclose(norms[:, 0], torch.full((2,), float(w.norm()), dtype=torch.float64))


def test_lstm_cell_path_starts_at_the_cell_gradient_and_a_larger_forget_bias_keeps_more():
    results = {b: measure("lstm", T=50, hidden_size=32, forget_bias=b) for b in (0.0, 1.0, 3.0)}
    for r in results.values():
        assert torch.allclose(r["norms"]["cell_path"][:, 0], r["norms"]["c"][:, 0])
        assert (r["norms"]["cell_path"] <= r["norms"]["cell_path"][:, :1] * (1 + 1e-9)).all()
    far = [float(results[b]["norms"]["cell_path"][:, 40].mean()) for b in (0.0, 1.0, 3.0)]
    assert far[0] < far[1] < far[2]


def test_gru_update_gate_path_starts_at_the_last_hidden_gradient():
    r = measure("gru", T=30, hidden_size=16)
    assert torch.allclose(r["norms"]["z_path"][:, 0], r["norms"]["h"][:, 0])


def test_singular_value_is_set_exactly():
    w = torch.randn(10, 10)
    set_largest_singular_value(w, 1.7)
    assert float(torch.linalg.matrix_norm(w, 2)) == pytest.approx(1.7, rel=1e-5)
    with pytest.raises(ValueError, match="got"):
        set_largest_singular_value(w, 0.0)


@pytest.mark.parametrize("kwargs", [{"cell": "elman"}, {"cell": "rnn", "T": 0}, {"cell": "gru", "forget_bias": 1.0}])
def test_bad_measurement_configs_are_rejected(kwargs):
    with pytest.raises(ValueError, match="got|expected"):
        measure(**kwargs)


def test_perturbation_decay_vanishes_for_a_contracting_rnn_and_not_for_an_open_lstm():
    from snippets.gradients import perturbation_decay
    from snippets.variants import set_forget_bias

    torch.manual_seed(0)
    x = torch.randn(1, 60, 4, dtype=torch.float64)
    rnn = torch.nn.RNN(4, 16, batch_first=True).double()
    set_largest_singular_value(rnn.weight_hh_l0, 0.5)
    decay = perturbation_decay(rnn, x)
    assert decay[0] > 0 and decay[-1] < 1e-12 * decay[0]  # at most 0.5^59 of the first change
    lstm = set_forget_bias(torch.nn.LSTM(4, 16, batch_first=True).double(), 20.0)  # forget gates ~1
    assert perturbation_decay(lstm, x)[-1] > 0.1 * perturbation_decay(lstm, x)[0]


def test_perturbation_decay_wants_one_batch_first_sequence():
    from snippets.gradients import perturbation_decay

    with pytest.raises(ValueError, match=r"\(1, T, input\), got \(2, 5, 4\)"):
        perturbation_decay(torch.nn.GRU(4, 3, batch_first=True), torch.zeros(2, 5, 4))


def test_spectral_radius_is_at_most_the_norm_and_equals_it_for_an_orthogonal_matrix():
    from snippets.gradients import set_orthogonal, spectral_radius

    torch.manual_seed(0)
    w = torch.randn(32, 32, dtype=torch.float64)
    assert spectral_radius(w) < float(torch.linalg.matrix_norm(w, 2))
    nilpotent = torch.tensor([[0.0, 3.0], [0.0, 0.0]])  # stretches by 3 once, then maps everything to 0
    assert spectral_radius(nilpotent) == 0.0 and float(torch.linalg.matrix_norm(nilpotent, 2)) == pytest.approx(3.0)
    set_orthogonal(w, 1.5)
    assert spectral_radius(w) == pytest.approx(1.5) and float(torch.linalg.matrix_norm(w, 2)) == pytest.approx(1.5)
    assert torch.allclose(w.T @ w, 2.25 * torch.eye(32, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"square matrix, got shape \(2, 3\)"):
        spectral_radius(torch.zeros(2, 3))


def test_decay_rate_recovers_a_geometric_factor():
    from snippets.gradients import decay_rate

    k = torch.arange(50, dtype=torch.float64)
    norms = torch.stack([2.0 * 0.8**k, 5.0 * 0.8**k])  # (batch, T): the same factor, other constants
    assert decay_rate(norms) == pytest.approx(0.8)
    assert decay_rate(1.1**k, start=10) == pytest.approx(1.1)
    with pytest.raises(ValueError, match=r"start in \[0, 48\], got 49"):
        decay_rate(norms, start=49)


def test_linear_pass_decays_at_the_spectral_radius():
    from snippets.gradients import decay_rate, linear_norms, spectral_radius

    torch.manual_seed(1)
    w = torch.randn(48, 48, dtype=torch.float64) / 48**0.5
    g = torch.randn(48, dtype=torch.float64)
    norms = linear_norms(w, g, 200)
    assert norms[0] == pytest.approx(float(g.norm()))
    assert torch.allclose(norms[1], (w.T @ g).norm())
    assert decay_rate(norms, start=50) == pytest.approx(spectral_radius(w), rel=0.03)


def test_orthogonal_measurement_keeps_the_input_weights_and_data():
    default = measure("rnn", T=20, hidden_size=16, sigma=1.5, seed=3)
    ortho = measure("rnn", T=20, hidden_size=16, sigma=1.5, seed=3, init="orthogonal")
    assert ortho["sigma_max"] == pytest.approx(1.5) and ortho["rho"] == pytest.approx(1.5)
    assert default["rho"] < default["sigma_max"]
    assert 0 < ortho["tanh_slope"] < 1 and 0 < default["tanh_slope"] < 1
    assert torch.equal(default["norms"]["h"][:, 0], ortho["norms"]["h"][:, 0])  # same w: dL/dh_T = w
    assert "rho" not in measure("gru", T=5, hidden_size=4)
    with pytest.raises(ValueError, match="init='orthogonal' applies to the rnn with a sigma"):
        measure("rnn", T=5, init="orthogonal")
    with pytest.raises(ValueError, match="init must be 'default' or 'orthogonal', got 'identity'"):
        measure("rnn", T=5, sigma=1.0, init="identity")
