"""Scoring style models on held-out photos: the evaluation, its scores, flicker without optical flow."""
