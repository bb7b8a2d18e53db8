"""Build tooling for the site: MkDocs hooks and the build-time TeX to MathML step.

Nothing here is needed to use the models; it runs only inside `mkdocs build` and the tests.
"""
