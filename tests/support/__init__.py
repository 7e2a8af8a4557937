"""Helpers the test modules share (fixtures stay in tests/conftest.py). No test module
imports conftest or another test module: they import from here."""
