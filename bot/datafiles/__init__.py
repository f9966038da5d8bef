"""Data files (PRODUCT §6): read YAML, validate everything, then write it in one transaction.

`schema` is the format, `checks` what one document must satisfy on its own, `reading` the
YAML and its errors, `scope` what codes mean within an organisation, `applying` the write
(plans, campaigns, results, what needs `--replace`),
`calendar_documents` the working-day calendar documents, `rules_documents` the eligibility
rules, `partial` what of a document with
errors is still checked (so that every error of a load shows in one run).
"""

from bot.datafiles.applying import LoadRejected, LoadReport, apply
from bot.datafiles.checks import LoadError
from bot.datafiles.reading import LoadSet, read_files

__all__ = ["LoadError", "LoadRejected", "LoadReport", "LoadSet", "apply", "read_files"]
