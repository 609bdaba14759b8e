"""Investigator reports (pyvis HTML) and takedown exports. Input: already-scored frames; nothing is scored here."""

from reports.export import neutralise_cell, takedown_rows, write_takedown
from reports.html import write_report

__all__ = ["neutralise_cell", "takedown_rows", "write_report", "write_takedown"]
