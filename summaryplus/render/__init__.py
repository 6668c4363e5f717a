"""Renderers: turn a ``ModelStatistics`` into tables, HTML, JSON, CSV, logs.

Each format lives in its own module and is imported only when used, so that
``import summaryplus`` stays cheap; the torchinfo text layout is
``summaryplus.formatting``. Every table here goes through tabulate.
"""
