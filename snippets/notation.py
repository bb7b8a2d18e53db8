"""The same quantities under the names the sources give them, and the gate order in the weights.

The table is data (facts from the cited sources); `gate_order` measures, on a live module, which
block of rows in `weight_ih`/`bias_ih` drives which gate, instead of trusting documentation.
"""

from __future__ import annotations

import torch

SOURCES = {
    "Hochreiter & Schmidhuber 1997": "Long Short-Term Memory, Neural Computation 9(8)",
    "colah 2015": "C. Olah, Understanding LSTM Networks (blog post)",
    "d2l.ai": "Zhang et al., Dive into Deep Learning, chapters on LSTM and GRU",
    "PyTorch": "torch.nn.LSTM / torch.nn.GRU documentation; this site's code",
    "Cho et al. 2014": "Learning Phrase Representations using RNN Encoder-Decoder for SMT",
    "Chung et al. 2014": "Empirical Evaluation of Gated Recurrent Neural Networks on Sequence Modeling",
    "Keras": "keras.layers.GRU (reset_after=True, the default since TensorFlow 2; False gives Cho et al.'s form)",
}
LSTM_SOURCES = ("Hochreiter & Schmidhuber 1997", "colah 2015", "d2l.ai", "PyTorch")
GRU_SOURCES = ("colah 2015", "d2l.ai", "PyTorch", "Cho et al. 2014", "Chung et al. 2014", "Keras")

# One row per quantity: (quantity, one symbol per source of the table, in order); "—" where the
# source has no such thing.
LSTM_SYMBOLS = [
    ("input gate", ["$y^{in_j}$", "$i_t$", "$\\mathbf{I}_t$", "$i_t$"]),
    ("forget gate", ["— (added by Gers et al. 2000)", "$f_t$", "$\\mathbf{F}_t$", "$f_t$"]),
    ("candidate (cell input)", ["$g(net_{c_j})$", "$\\tilde{C}_t$", "$\\tilde{\\mathbf{C}}_t$", "$g_t$"]),
    ("output gate", ["$y^{out_j}$", "$o_t$", "$\\mathbf{O}_t$", "$o_t$"]),
    ("cell state", ["$s_{c_j}$", "$C_t$", "$\\mathbf{C}_t$", "$c_t$"]),
    ("hidden state / output", ["$y^{c_j}$", "$h_t$", "$\\mathbf{H}_t$", "$h_t$"]),
    ("input weights of gate $i$", ["$w_{in_j u}$", "$W_i$ (on $[h_{t-1}, x_t]$)", "$\\mathbf{W}_{xi}$", "$W_{ii}$"]),
    (
        "recurrent weights of gate $i$",
        ["$w_{in_j u}$", "$W_i$ (on $[h_{t-1}, x_t]$)", "$\\mathbf{W}_{hi}$", "$W_{hi}$"],
    ),
]
GRU_SYMBOLS = [
    ("reset gate", ["$r_t$", "$\\mathbf{R}_t$", "$r_t$", "$r_j$", "$r_t^j$", "`r`"]),
    ("update gate", ["$z_t$", "$\\mathbf{Z}_t$", "$z_t$", "$z_j$", "$z_t^j$", "`z`"]),
    (
        "candidate",
        [
            "$\\tilde{h}_t$",
            "$\\tilde{\\mathbf{H}}_t$",
            "$n_t$",
            "$\\tilde{h}_j^{\\langle t \\rangle}$",
            "$\\tilde{h}_t^j$",
            "`hh`",
        ],
    ),
    ("what keeps the past", ["$1 - z_t$", "$\\mathbf{Z}_t$", "$z_t$", "$z_j$", "$1 - z_t^j$", "`z`"]),
    (
        "reset applied",
        [
            "before the matmul",
            "before the matmul",
            "after the matmul",
            "before the matmul",
            "before the matmul",
            "after the matmul",
        ],
    ),
]


def symbol_table(rows: list[tuple[str, list[str]]], sources: tuple[str, ...]) -> str:
    """A Markdown table: one row per quantity, one column per source."""
    header = "| quantity | " + " | ".join(sources) + " |"
    rule = "|" + " --- |" * (len(sources) + 1)
    lines = [f"| {quantity} | " + " | ".join(symbols) + " |" for quantity, symbols in rows]
    return "\n".join([header, rule, *lines])


def gate_order(module_cls, hidden_size: int = 3) -> list[str]:
    """Which gate each block of `hidden_size` rows of `bias_ih_l0` drives, measured.

    Starts from all-zero parameters (so no gate feeds another through $h$ or a bias), raises one
    block's bias and sees which gate's trace moves. Works for any of this package's sequence
    modules; since they load torch.nn's weights unchanged, it also gives torch.nn's order.
    """
    module = module_cls(1, hidden_size).double()
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
    x = torch.zeros(1, 1, 1, dtype=torch.float64)
    *_, before = module(x, return_gates=True)
    gates = [name for name in module.trace_names if name not in ("h", "c")]
    order = []
    for block in range(module.num_gates):
        with torch.no_grad():
            module.bias_ih_l0[block * hidden_size : (block + 1) * hidden_size] += 1.0
        *_, after = module(x, return_gates=True)
        with torch.no_grad():
            module.bias_ih_l0[block * hidden_size : (block + 1) * hidden_size] -= 1.0
        moved = [g for g in gates if not torch.allclose(after[g], before[g])]
        if len(moved) != 1:
            raise RuntimeError(f"gate_order: expected one gate to move for block {block}, got {moved}")
        order.append(moved[0])
    return order
