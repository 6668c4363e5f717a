"""Renderers: turn summaries and their derived records into text, tables, pictures.

Each view lives in its own module; heavy optional packages (tabulate,
matplotlib, pandas, rich) are imported inside the functions that use them, so
``import summaryplus`` never loads them: ``table``, ``html``, ``report`` and
``report_views`` (the interactive HTML report), ``serialize`` (JSON,
CSV), ``rich`` and ``log`` for a ``ModelStatistics``; ``plots/`` for the charts
(matplotlib imported inside the drawing functions); ``comparison`` and ``diff``
for ``compare()`` and ``diff()``; ``checkpoint`` for a ``CheckpointSummary``.
``summaryplus.units`` is the one unit scaler they share; ``output`` the one output model
every format is written from (``formats`` dispatches a summary's or a
checkpoint's ``--format``). The torchinfo text layout is
``summaryplus.formatting``. Every table here goes through tabulate.
"""
