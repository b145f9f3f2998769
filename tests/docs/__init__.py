"""Tests of the documentation: the Sphinx build, the API reference and the code on the pages."""
