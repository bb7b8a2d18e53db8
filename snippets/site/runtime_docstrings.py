"""A griffe extension for the API page: classes whose docstring is built at import time get it.

`snippets.layers` builds the RNN, LSTM and GRU docstrings from one Args/Inputs/Outputs template
(`__doc__ = ... + _ARGS.format(...)`), and the cells append their step function's equations, so
that no text is written three times. mkdocstrings reads the source statically, where such a
docstring does not exist; this extension imports the class and takes the one Python sees.
"""

from __future__ import annotations

import importlib
import inspect

import griffe


class RuntimeDocstrings(griffe.Extension):
    def on_class_instance(self, *, cls: griffe.Class, **kwargs) -> None:
        if cls.docstring is not None or not cls.path.startswith("snippets."):
            return
        module = importlib.import_module(cls.module.path)
        doc = inspect.getdoc(getattr(module, cls.name, None))
        if doc and doc != inspect.getdoc(object):
            cls.docstring = griffe.Docstring(doc, parent=cls)
