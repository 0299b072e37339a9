"""Servio's date and time formats for English (Django's format-module mechanism): one place
for how times read on pages and in emails. Other languages fall back to Django's own formats
for their locale; times are always in the reader's zone (decision 37)."""

# Tuesday 8 December 2026, 13:00 CET: a due time or a promise, in words.
DATETIME_FORMAT = "l j F Y, H:i T"
# 2026-12-08 13:00: tables and timelines, sortable by eye.
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
