"""Reverse evaluation: questionnaires, rounds, anonymous responses, scores, reports."""
