"""Pictures of a summary: where the parameters, compute and memory of a model are.

Three charts, each returned as a ``matplotlib.figure.Figure``:

* ``plot_summary`` (``layers``) - one bar per module at a depth (params, MACs,
  FLOPs or memory), sorted or in model order, the smallest grouped as "other";
* ``plot_memory`` (``training_memory``) - the training-step memory estimate,
  part by part, for the two phases a step can peak in;
* ``plot_comparison`` (``comparison``) - several models side by side, one
  panel per metric.

The values per module come from ``summaryplus.queries.group_by``, so the bars
of a chart add up exactly to the model totals (tied weights count once).

matplotlib is an optional dependency (``pip install 'summaryplus[plot]'``) and
is imported inside the functions only: ``import summaryplus`` never loads it.
Figures are built with the object API (``Figure`` + ``FigureCanvasAgg``), not
``pyplot``: drawing works headless, never switches the backend the user chose
and leaves no figure registered in pyplot's global state. The shared pieces
are private modules: ``_style`` (palette, series), ``_labels`` (text),
``_axes`` (drawing, saving) and ``_arguments`` (checks).

The charts are imported from their modules (or from ``summaryplus.plot``, the
public path): this package imports none, so the roofline's own chart does not
load the others.
"""
