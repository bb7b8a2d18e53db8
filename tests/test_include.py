"""snippets.site.include: source shown on pages, with or without the docstring the page rendered."""

import inspect

import pytest

from snippets.cells import lstm_step
from snippets.figures import lstm_backprop as B
from snippets.min_rnn import MinGRU, min_gru_step
from snippets.site.include import docstring, equations, source, without_docstring

pytestmark = pytest.mark.site  # needs the site extra (mkdocs and its plugins): see tests/conftest.py


def no_docstring(x):
    return x + 1


def test_source_without_docstring_keeps_every_line_of_code():
    full, bare = source(min_gru_step), source(min_gru_step, docstring=False)
    assert '"""' in full and '"""' not in bare and "$$" not in bare
    code = [line for line in full.splitlines() if line not in bare.splitlines()]
    assert all(not line.strip().startswith(("z =", "h =", "return")) for line in code)
    assert bare.startswith("```python\ndef min_gru_step(") and bare.rstrip().endswith("```")


def test_source_without_docstring_of_a_method_and_of_code_that_has_none():
    bare = source(MinGRU.forward, docstring=False)
    assert bare.startswith("```python\ndef forward(") and "return_gates=True" not in bare  # dedented
    assert source(no_docstring, docstring=False) == source(no_docstring)


def test_source_can_leave_out_the_docstring():
    shown = source(lstm_step, docstring=False)
    assert "def lstm_step(" in shown and "c = f * c + i * g" in shown
    assert "begin{aligned}" not in shown and '"""' not in shown
    assert source(lstm_step) == "```python\n" + inspect.getsource(lstm_step).rstrip() + "\n```\n"


def test_without_docstring_keeps_code_and_handles_odd_bodies():
    code = 'def f(x):\n    """Doc\n\n    more.\n    """\n    return x\n'
    assert without_docstring(code) == "def f(x):\n    return x\n"
    assert without_docstring('def g():\n    """Only a docstring."""\n') == "def g():\n    ...\n"
    assert without_docstring("def h():\n    return 1\n") == "def h():\n    return 1\n"
    method = source(B.plot_truncated, docstring=False)
    assert method.startswith("```python\ndef plot_truncated(") and "Lines:" not in method
    with pytest.raises(ValueError, match="expected a function or class definition"):
        without_docstring("x = 1\n")


def test_equations_keep_only_the_display_math_of_a_docstring():
    shown = equations(min_gru_step)
    assert shown.startswith("$$\n\\begin{aligned}") and shown.rstrip().endswith("$$")
    assert shown.count("$$") == 2 and "Returns" not in shown and "Returns" in docstring(min_gru_step)
    with pytest.raises(ValueError, match="no \\$\\$ block"):
        equations(words_only)


def words_only():
    """A docstring with no display math."""
