"""Training-framework callbacks: a summary at the start, the monitor every step.

Each integration is its own module and imports its framework when imported,
never before: ``import summaryplus`` does not load Lightning or transformers.

- ``summaryplus.integrations.lightning.SummaryPlusCallback``: a Lightning
  ``Callback`` (``pip install 'summaryplus[lightning]'``).
- ``summaryplus.integrations.hf.SummaryPlusTrainerCallback``: a Hugging Face
  ``transformers.TrainerCallback`` (``pip install 'summaryplus[hf]'``).
"""
