"""Training: runtime set-up, optimisers, callbacks, and the run that writes a model folder."""
