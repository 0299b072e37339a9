"""The SQLite database backend of the embedded default: Django's, with writers taking turns.

Select it with ENGINE `servio.core.sqlite` (settings do so for every `sqlite:` DATABASE_URL);
why it exists is decision 39.
"""
