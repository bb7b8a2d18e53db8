"""The parts of `mkdocs serve`'s placeholders and background runner, one at a time (no server)."""

import json
import sys
import time
from pathlib import Path

import jinja2
import pytest
from mkdocs.structure.files import File, Files

from snippets.site import placeholders, progress, runner, serving
from snippets.site.mathml import tex_to_mathml

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py

REPO = Path(__file__).resolve().parents[1]


def render(template: str, **values) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals["snippets_pending"] = placeholders.is_pending
    return env.from_string(placeholders.guard_conditions(template)).render(**values)


def markers(text: str) -> list[str]:
    return [placeholders._names[int(n)] for n in placeholders.TOKEN.findall(text)]


def test_a_pending_fact_prints_a_marker_for_any_key_index_call_or_filter():
    m = placeholders.PendingValue("exp_a")
    text = render("{{ m.a }} {{ m['b'] }} {{ m.c.d() }} {{ m.table | indent(4) }}", m=m)
    assert markers(text) == ["exp_a"] * 4
    assert render("{% for k, v in m.items() %}row{% endfor %}", m=m) == "", "a pending table has no rows"


def test_if_on_a_pending_fact_prints_its_marker_instead_of_either_branch():
    template = "{% if m.flag %}YES{% elif m.other %}MAYBE{% else %}NO{% endif %}|{%- if m.flag -%} A {%- endif -%}|"
    pending = render(template, m=placeholders.PendingValue("exp_b"))
    assert "YES" not in pending and "NO" not in pending and "MAYBE" not in pending and " A " not in pending
    assert markers(pending) == ["exp_b", "exp_b"]
    assert render(template, m={"flag": True, "other": False}) == "YES|A|", "real values: as written"
    assert render(template, m={"flag": False, "other": True}) == "MAYBE||"
    assert render(template, m={"flag": False, "other": False}) == "NO||"


def test_tokens_become_markers_in_text_a_plain_word_in_attributes_and_an_ellipsis_in_math():
    token = str(placeholders.PendingValue("exp_c"))
    page = f'<p title="x {token}">Solved on {token} of 5, at <span class="arithmatex">\\(r = {token}\\)</span>.</p>'
    filled = placeholders.fill_values(page, lambda name: f"progress of {name}")
    assert 'title="x pending"' in filled and token not in filled
    assert '<span class="snippets-pending-value" data-pending-experiment="exp_c"' in filled
    assert "waits for the experiment exp_c: progress of exp_c" in filled
    assert '<span class="arithmatex" data-pending-experiment="exp_c">\\(r = \\text{…}\\)</span>' in filled
    assert "<mtext>…</mtext>" in tex_to_mathml("r = \\text{…}")
    assert placeholders.found(filled) == ["exp_c"]


def test_placeholders_name_their_experiment_and_progress_and_a_pending_claim_is_never_checked():
    block = placeholders.block("exp_d", "computing for 12 s, training loop 2: step 50 of 300")
    assert "Waiting for the experiment <code>exp_d</code>" in block and "step 50 of 300" in block
    claim = placeholders.claim("exp_d", "queued")
    assert ">pending<" in claim and "✓" not in claim and "✗" not in claim and "claim-checked" not in claim
    assert "Waiting for every experiment" in placeholders.block(placeholders.EVERY, "3 of 21")
    assert placeholders.found(block + claim) == ["exp_d"]
    assert placeholders.found("<p>data-pending-experiment, said in prose</p>") == []


def test_progress_text_says_queued_running_with_its_counts_done_or_stopped():
    now = 1000.0
    running = {"state": "running", "started": 988.0, "loops": 1, "step": 50, "steps": 300}
    assert serving.describe(running, 3, 21, True, now) == "computing for 12 s, training loop 2: step 50 of 300"
    between = {"state": "running", "started": 900.0, "loops": 2, "step": 0, "steps": None}
    assert serving.describe(between, 3, 21, True, now) == "computing for 100 s, 2 training loops done"
    assert serving.describe(None, 3, 21, True, now) == "queued, 3 of 21 experiments finished so far"
    assert "next rebuild computes it" in serving.describe(None, 3, 21, False, now)
    assert serving.describe({"state": "done"}, 4, 21, True, now).startswith("finished")


def test_rebuilds_are_spaced_nine_times_their_cpu_seconds_after_the_first_build():
    rebuilds = serving.Rebuilds()
    rebuilds.started(0.0, 0.0)
    rebuilds.finished(30.0, 20.0)  # the first build: the site itself
    assert rebuilds.allows(30.1)
    rebuilds.started(40.0, 20.0)
    rebuilds.finished(50.0, 22.0)  # 10 s of wall clock, 2 CPU seconds
    assert not rebuilds.allows(67.9) and rebuilds.allows(68.0)


def test_pages_render_in_the_order_of_the_nav(tmp_path):
    names = ["index.md", "alpha.md", "zeta.md", "sub/beta.md", "extra.md"]
    files = Files([File(name, str(tmp_path), str(tmp_path / "site"), True) for name in names])
    nav = [{"Home": "index.md"}, {"Part": [{"Zeta": "zeta.md"}, "sub/beta.md"]}, "alpha.md"]
    assert serving.nav_paths(nav) == ["index.md", "zeta.md", "sub/beta.md", "alpha.md"]
    serving.reading_order(files, nav)
    assert [f.src_uri for f in files.documentation_pages()] == [
        "index.md",
        "zeta.md",
        "sub/beta.md",
        "alpha.md",
        "extra.md",
    ]


def test_the_first_worker_follows_the_reader_the_others_take_the_longest_first(tmp_path, monkeypatch):
    (tmp_path / "claims").mkdir()
    (tmp_path / "wishes.json").write_text(json.dumps({"names": ["c", "x", "a"]}))
    longest_first = ["a", "b", "c", "d"]
    assert runner.order(longest_first, ["c", "x", "a"]) == ["c", "a", "b", "d"]
    assert runner.claim(tmp_path, longest_first, reader=True) == "c"
    assert runner.claim(tmp_path, longest_first, reader=False) == "a"
    assert runner.claim(tmp_path, longest_first, reader=True) == "b", "claimed ones are skipped"
    assert runner.claim(tmp_path, longest_first, reader=False) == "d"
    assert runner.claim(tmp_path, longest_first, reader=True) is None
    assert sorted(p.name for p in (tmp_path / "claims").iterdir()) == longest_first


def test_hidden_tqdm_bars_report_their_steps_to_the_experiments_status_file(tmp_path, monkeypatch):
    from tqdm.std import tqdm as original

    import snippets.train

    monkeypatch.setattr(progress, "WRITE_EVERY_S", 0.0)
    seen = []
    try:
        progress.count_bars()
        assert snippets.train.tqdm is progress.CountingBar, "a module that imported tqdm before counts too"
        progress.begin(tmp_path, "exp_e")
        for _ in snippets.train.tqdm(range(4), disable=True):  # hidden, as without a terminal
            seen.append(progress.read(tmp_path)["exp_e"]["step"])
        mid = progress.read(tmp_path)["exp_e"]
        for _ in snippets.train.tqdm(range(3), disable=True):
            pass
        progress.end()
    finally:
        for module in list(sys.modules.values()):  # as it was for the other tests
            if getattr(module, "tqdm", None) is progress.CountingBar:
                module.tqdm = original
    assert seen == [0, 1, 2, 3] and mid["loops"] == 1
    final = progress.read(tmp_path)["exp_e"]
    assert final["state"] == "done" and final["loops"] == 2 and final["ended"] <= time.time()


def test_the_notebooks_say_which_experiments_they_read():
    names = ["adding_problem", "copy_task", "recall"]
    for notebook in sorted((REPO / "docs" / "notebooks").glob("*.ipynb")):
        assert serving.experiments_read(notebook, names) == ["adding_problem"], notebook.name
