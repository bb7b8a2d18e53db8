"""snippets.site.include: source shown on pages, with or without the docstring the page rendered."""

from snippets.min_rnn import MinGRU, min_gru_step
from snippets.site.include import source


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
