"""The gate lab page: the lab's configuration for the browser, the numbers its guided experiments
print, and the claims its build checks, all on the exported weights (experiment `gate_lab`, in
`snippets.experiments.lab`)."""

from __future__ import annotations

import json
from html import escape

import numpy as np
from matplotlib.figure import Figure

from snippets.experiments.lab import longest
from snippets.figures import COLORS, PHONE_WIDTH, Claim, theme

FEATURES = {  # the real-text page's features, as the unit menu names them
    "in_string": "inside a string",
    "in_comment": "inside a comment",
    "bracket_depth": "bracket depth",
    "indent": "indentation",
    "column": "position in the line",
}
TITLES = {
    "char": "Character model (real-text page, LSTM)",
    "recall-lstm": "Recall LSTM (LSTM page)",
    "recall-gru": "Recall GRU (GRU page)",
}


def _result(result: dict | None) -> dict:
    from snippets.experiments import gate_lab

    return gate_lab() if result is None else result


def config():
    """The lab's configuration, as the site's experiment runs it (its default)."""
    from snippets.experiments import GateLabConfig

    return GateLabConfig()


def _percent(x: float) -> str:
    return f"{100 * x:.1f}%"


# -- the lab's configuration --------------------------------------------------------------------


def unit_options(name: str, units: dict) -> list[dict]:
    """The unit menu's first entries: the groups and units the other pages single out (found by the
    build), as `{"units": [...], "label": ...}`."""
    options = []
    if name == "char":
        string = units["groups"]["string"]
        options.append({"units": string, "label": f"string units {', '.join(map(str, string))} (real-text page)"})
        options.append({"units": [units["cause"]], "label": f"unit {units['cause']}: closing quotes need it most"})
        for u in units["best"]:
            options.append(
                {
                    "units": [u["unit"]],
                    "label": f"unit {u['unit']}: {FEATURES.get(u['feature'], u['feature'])} "
                    f"({u['trace']}, correlation {u['correlation']:+.2f})",
                }
            )
    else:
        carrying = units["groups"]["carrying"]
        page = "LSTM page" if name == "recall-lstm" else "found as on the LSTM page"
        options.append({"units": carrying, "label": f"carrying units {', '.join(map(str, carrying))} ({page})"})
    return options


def preset_options(name: str, presets: list) -> list[dict]:
    if name == "char":
        labels = ["a line with a string (validation file)", "a method", "a raised error"]
        return [{"label": label, "text": text} for label, text in zip(labels, presets)]
    return [{"label": p.get("label", f"a validation sequence, gap {p['gap']}"), "text": p["text"]} for p in presets]


# The set-up the lab opens with: every forget and input gate of the recall LSTM at 0 right after the
# subject. It changes the answer on any trained network (the state after it is the zero state, so the
# answer cannot depend on the subject), on an example chosen for it (`lab.answer_changing_example`).
OPENING = "lstm-wipe"


def lab_config(result: dict | None = None) -> dict:
    """What the page gives gatelab.js: per model its cell, weights URL (next to the page), vocabulary,
    read-out labels, gates, size, unit menu and examples; the guided experiments' settings; and
    `opening`, the set-up the lab applies when the page loads (when the result has it)."""
    r = _result(result)
    models = {}
    for name, exported in r["models"].items():
        models[name] = {
            "cell": exported["cell"],
            "weights_url": f"{name}.json",
            "vocab": exported["vocab"],
            "outputs": exported["outputs"],
            "gates": exported["gates"],
            "hidden_size": exported["hidden_size"],
            "title": TITLES[name],
            "kind": "text" if name == "char" else "recall",
            "units": unit_options(name, r["units"][name]),
            "presets": preset_options(name, r["presets"][name]),
        }
    setups = {key: {k: v for k, v in s.items() if k != "outcome"} for key, s in r["setups"].items()}
    config = {"models": models, "setups": setups}
    if OPENING in setups:
        config["opening"] = OPENING
    return config


def lab_html(result: dict | None = None) -> str:
    """The lab's placeholder: where the script builds the lab, its configuration as JSON in an
    attribute (a JSON `<script>` would not survive Material's instant navigation, which re-creates
    the page's scripts as JavaScript), and what the page says without JavaScript."""
    config = escape(json.dumps(lab_config(result), separators=(",", ":"), ensure_ascii=True), quote=True)
    return (
        f'<div id="gate-lab" class="gate-lab" data-config="{config}"><p>The lab runs in your browser '
        "with JavaScript; without it, this page shows the guided experiments' results as text.</p></div>"
    )


# -- the opening figure ---------------------------------------------------------------------------


def opening_run(result: dict | None = None) -> dict:
    """The set-up the lab opens with (the wipe) on its example, free and clamped, as the experiment ran
    it: the text, the subject, the read-out labels, the clamped steps, and per run the probabilities
    at every step, (steps, outputs)."""
    r = _result(result)
    setup = r["setups"][r["opening"]["setup"]]
    model = r["models"][setup["model"]]
    return {
        "text": r["presets"][setup["model"]][setup["preset"]]["text"],
        "subject": setup["target"],
        "outputs": model["outputs"],
        "clamped_steps": sorted({t for c in setup["clamps"] for t in range(c["from"], c["to"])}),
        **{name: np.array(r["opening"][name]) for name in ("free", "clamped")},
    }


def plot_opening(run: dict, narrow: bool = False) -> Figure:
    """Left (top on a phone): the answer at the query, free and clamped, as the probability of each
    subject. Right (below): the subject's probability after each step of the input, the clamped step shaded."""
    outputs, subject = run["outputs"], run["subject"]
    k = outputs.index(subject)
    runs = (("free", "free run", COLORS[0], "-"), ("clamped", "memory wiped at step 1", COLORS[1], "--"))
    with theme():
        fig = Figure(figsize=(PHONE_WIDTH, 5.4) if narrow else (7.4, 2.9), layout="constrained")
        answer, steps = fig.subplots(2, 1) if narrow else fig.subplots(1, 2, width_ratios=(1, 1.4))
        x = np.arange(len(outputs))
        for offset, (key, label, color, _) in zip((-0.2, 0.2), runs):
            answer.bar(x + offset, run[key][-1], width=0.4, color=color, label=label)
        answer.set_xticks(x, outputs)
        answer.set(ylim=(0, 1), ylabel="probability", title=f"The answer after “?” (subject {subject})")
        answer.grid(False, axis="x")
        t = np.arange(len(run["text"]))
        for step in run["clamped_steps"]:
            steps.axvspan(step - 0.5, step + 0.5, color=COLORS[1], alpha=0.15, linewidth=0)
        for key, label, color, style in runs:
            steps.plot(t, run[key][:, k], color=color, linestyle=style, label=label)
        steps.set_xticks(t, list(run["text"]), fontsize=8 if narrow else 9)
        xlabel = "input (shaded: the clamped step)" if narrow else "input, one token a step (shaded: the clamped step)"
        steps.set(ylim=(0, 1.02), xlabel=xlabel)
        steps.set(title=f"Probability of {subject}, step by step")
        steps.grid(False, axis="x")
        handles, labels = steps.get_legend_handles_labels()  # lines: their dashes tell the runs apart in grey too
        fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=9)
    return fig


def opening_alt(run: dict) -> str:
    """The text alternative of `plot_opening`, with the run's answers."""
    free, clamped = (run["outputs"][int(run[key][-1].argmax())] for key in ("free", "clamped"))
    return (
        f"Two plots of the recall LSTM reading {run['text']}, free and with its memory wiped at step 1. "
        f"Left: the probability of each subject after the query; free it answers {free}, wiped {clamped}. "
        f"Right: the probability of the subject {run['subject']} after each step, for both runs."
    )


# -- facts ----------------------------------------------------------------------------------------


def string_facts(result: dict | None = None) -> dict:
    """The string experiment's numbers, as text."""
    r = _result(result)
    s = r["experiments"]["strings"]
    corr, cause = s["units"]["correlation"], s["units"]["cause"]
    best = next(u for u in r["units"]["char"]["best"] if u["feature"] == "in_string")
    setups = r["setups"]
    preset = s["preset"]
    return {
        "lines": str(s["lines"]),
        "free_bits": f"{s['free_bits']:.2f}",
        "corr_unit": str(corr["unit"]),
        "corr_rho": f"{best['correlation']:+.2f}",
        "corr_trace": best["trace"],
        "corr_bits": f"{corr['bits']:.2f}",
        "corr_rise": f"{corr['rise']:+.2f}",
        "corr_above": str(corr["rank"] - 1),
        "corr_share": _percent(corr["share_worse"]),
        "cause_unit": str(cause["unit"]),
        "cause_bits": f"{cause['bits']:.2f}",
        "cause_rise": f"{cause['rise']:+.2f}",
        "cause_share": _percent(cause["share_worse"]),
        "corr_verdict": _correlation_verdict(corr, cause),
        "group": ", ".join(map(str, r["units"]["char"]["groups"]["string"])),
        "group_rise": f"{s['units']['string']['rise']:+.2f}",
        "group_share": _percent(s["units"]["string"]["share_worse"]),
        "hidden": str(r["models"]["char"]["hidden_size"]),
        "line": preset["line"].rstrip("\n"),
        "line_steps": str(len(preset["line"])),
        "last_step": str(len(preset["line"]) - 1),
        "close_step": str(setups["string-cause"]["step"]),
        "p_free": f"{setups['string-cause']['outcome']['free']['p_target']:.2f}",
        "p_corr": f"{setups['string-correlation']['outcome']['clamped']['p_target']:.2f}",
        "p_cause": f"{setups['string-cause']['outcome']['clamped']['p_target']:.2f}",
    }


def _correlation_verdict(corr: dict, cause: dict) -> str:
    """Whether the unit that correlates best with being inside a string is the one whose clamp costs
    the closing quote most, as the page's answer (a fact about one trained network: printed, not checked)."""
    if corr["rank"] == 1:
        return "yes: pinning its forget gate to 0 raises the closing quote's cost more than any other unit's"
    return (
        f"no: pinning the forget gate of {corr['rank'] - 1} other units to 0 raises the closing quote's "
        f"cost more, that of unit {cause['unit']} most"
    )


def _recall_facts(r: dict, name: str, steps: tuple[str, ...]) -> dict:
    e = r["experiments"][name]
    out = {"gap": str(e["gap"]), "gaps": ", ".join(map(str, e["gaps"])), "long": str(e["gaps"][-1])}
    out["factor"] = str(e["gaps"][-1] // e["gap"])
    for clamp, accs in e["accuracy"].items():
        out[clamp] = ", ".join(_percent(a) for a in accs)
        out[f"{clamp}_first"], out[f"{clamp}_last"] = _percent(accs[0]), _percent(accs[-1])
    cell = name.split("-")[1]
    for step in steps:
        o = r["setups"][f"{cell}-{step}"]["outcome"]
        out[f"{step}_p_free"], out[f"{step}_p"] = f"{o['free']['p_target']:.2f}", f"{o['clamped']['p_target']:.2f}"
        out[f"{step}_top"], out[f"{step}_p_top"] = o["clamped"]["top"], f"{o['clamped']['p_top']:.2f}"
    presets = r["presets"][name]
    out["short"], out["long_text"] = presets[0]["text"], presets[longest(presets)]["text"]
    if "wipe_example" in e:  # the opening set-up's example: the first whose answer the wipe changes
        text = presets[e["wipe_example"]]["text"]
        out["wipe_text"], out["wipe_subject"] = text, text[0]
    out["subject"] = presets[0]["text"][0]
    out["units"] = ", ".join(map(str, r["units"][name]["groups"]["carrying"]))
    outputs = r["models"][name]["outputs"]
    out["subjects"] = f"{outputs[0]} to {outputs[-1]}"
    out["chance"] = _percent(1 / len(outputs))
    out["n_subjects"] = str(len(outputs))
    out["sequences"] = str(config().n_sequences)
    out["hidden"] = str(r["models"][name]["hidden_size"])
    out["query_step"], out["long_query_step"] = str(e["gap"] + 1), str(e["gaps"][-1] + 1)
    out["to"], out["long_to"] = str(e["gap"] + 1), str(e["gaps"][-1] + 1)
    if "carrying_forget" in e["accuracy"]:
        out["carrying_keep_most"] = carrying_keep_most(e)
    return out


def carrying_keep_most(e: dict) -> bool:
    """Whether the recall LSTM still names most subjects with its carrying units' forget gates at 0,
    at every gap where the free model names at least 90 % (a fact of one network: the page prints
    its accuracies and picks its explanation by this)."""
    accs, _ = _where_free_succeeds(e, "carrying_forget")
    return bool(accs) and min(accs) > 0.5


def lstm_facts(result: dict | None = None) -> dict:
    """The recall LSTM's numbers, as text: accuracies at each gap per clamp, and the examples' outcomes."""
    return _recall_facts(_result(result), "recall-lstm", ("wipe", "output", "input", "latch"))


def gru_facts(result: dict | None = None) -> dict:
    """The recall GRU's numbers, as text."""
    return _recall_facts(_result(result), "recall-gru", ("frozen", "replaced"))


def fidelity_facts(result: dict | None = None) -> dict:
    """How the exported models compare with the trained ones, and their sizes."""
    r = _result(result)
    f = r["fidelity"]
    return {
        "trained_bpc": f"{f['char']['trained_bpc']:.3f}",
        "exported_bpc": f"{f['char']['exported_bpc']:.3f}",
        "lstm_trained": _percent(f["recall-lstm"]["trained_accuracy"]),
        "lstm_exported": _percent(f["recall-lstm"]["exported_accuracy"]),
        "gru_trained": _percent(f["recall-gru"]["trained_accuracy"]),
        "gru_exported": _percent(f["recall-gru"]["exported_accuracy"]),
        "char_params": f"{sum(len(t['values']) for t in r['models']['char']['state_dict'].values()):,}",
        "vocab": str(len(r["models"]["char"]["vocab"])),
        "lstm_gap": str(r["experiments"]["recall-lstm"]["gap"]),
        "recall_hidden": str(r["models"]["recall-lstm"]["hidden_size"]),
        "gru_hidden": str(r["models"]["recall-gru"]["hidden_size"]),
        "max_chars": str(config().text.max_chars),
        "sequences": str(config().n_sequences),
        "min_accuracy": _percent(config().min_accuracy),
        "resolution": str(config().resolution),
        "input_resolution": str(config().input_resolution),
        "gru_gap": str(r["experiments"]["recall-gru"]["gap"]),
    }


def units_table(result: dict | None = None) -> str:
    """Markdown: the units the lab offers first, per model, with where they come from."""
    r = _result(result)
    rows = ["| model | units offered first |", "| --- | --- |"]
    for model in lab_config(r)["models"].values():
        rows.append(f"| {escape(model['title'])} | {'<br>'.join(escape(o['label']) for o in model['units'])} |")
    return "\n".join(rows) + "\n"


ROWS = {
    "recall-lstm": {
        "free": "free",
        "wiped": "forget and input gates at 0 at step 1 only",
        "output_closed": "output gates at 0",
        "input_closed": "input gates at 0",
        "latch": "input gates at 0, forget gates at 1",
        "carrying_forget": "forget gates of the carrying units ({units}) at 0",
    },
    "recall-gru": {
        "free": "free",
        "frozen": "update gates at 1",
        "replaced": "update gates at 0 at step 1 only",
        "carrying_replaced": "update gates of the carrying units ({units}) at 0 at step 1 only",
    },
}


def recall_table(name: str, result: dict | None = None) -> str:
    """Markdown: a recall model's validation accuracy per clamp (rows) and gap (columns)."""
    r = _result(result)
    e = r["experiments"][name]
    units = ", ".join(map(str, r["units"][name]["groups"]["carrying"]))
    rows = ["| clamp (over the gap unless said) | " + " | ".join(f"gap {g}" for g in e["gaps"]) + " |"]
    rows.append("| --- |" + " ---: |" * len(e["gaps"]))
    for key, label in ROWS[name].items():
        rows.append(f"| {label.format(units=units)} | " + " | ".join(_percent(a) for a in e["accuracy"][key]) + " |")
    return "\n".join(rows) + "\n"


# -- claims ---------------------------------------------------------------------------------------


def exported_models_match_trained(result: dict | None = None) -> Claim:
    """The exported character model is within 0.02 bits per character of the trained one, and each exported
    recall model within 1 point of accuracy of its trained model."""
    f = _result(result)["fidelity"]
    bpc = f["char"]["exported_bpc"] - f["char"]["trained_bpc"]
    acc = [abs(f[n]["exported_accuracy"] - f[n]["trained_accuracy"]) for n in ("recall-lstm", "recall-gru")]
    return Claim(abs(bpc) < 0.02 and max(acc) <= 0.01, f"bits per character {bpc:+.4f}; accuracy differences {acc}")


def _where_free_succeeds(e: dict, key: str) -> tuple[list[float], list[int]]:
    """The accuracies of clamp `key` at the gaps where the free model names at least 90% of the subjects."""
    kept = [(a, g) for a, g, free in zip(e["accuracy"][key], e["gaps"], e["accuracy"]["free"]) if free >= 0.9]
    return [a for a, _ in kept], [g for _, g in kept]


def lstm_input_closed_only_shrinks(result: dict | None = None) -> Claim:
    """With every input gate of the recall LSTM pinned to 0 over the gap, no unit's |c| grows from one step of
    the gap to the next, on any validation sequence."""
    growth = _result(result)["experiments"]["recall-lstm"]["state"]["input_closed_growth"]
    return Claim(growth <= 0.0, f"largest growth of |c| from one step to the next: {growth:.3g}")


def lstm_latch_freezes_the_cell(result: dict | None = None) -> Claim:
    """With the input gates at 0 and the forget gates at 1 over the gap, the recall LSTM's cell state does not
    change at all over the gap, on any validation sequence."""
    change = _result(result)["experiments"]["recall-lstm"]["state"]["latch_change"]
    return Claim(change == 0.0, f"largest change of c from one step to the next: {change:.3g}")


def gru_frozen_ignores_the_gap(result: dict | None = None) -> Claim:
    """With every update gate of the recall GRU pinned to 1 over the gap, its state does not change at all over
    the gap, and its accuracy is the same at every gap."""
    e = _result(result)["experiments"]["recall-gru"]
    accs, change = e["accuracy"]["frozen"], e["state"]["frozen_change"]
    return Claim(len(set(accs)) == 1 and change == 0.0, f"accuracy {accs}; largest change of h {change:.3g}")
