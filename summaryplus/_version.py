"""The version of summaryplus (one place: the package and every export read it)."""

__version__ = "0.1.0"
