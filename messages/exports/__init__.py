"""What the office downloads: the Excel workbooks, the registration form and the dossier ZIP."""

import os

# openpyxl writes through lxml when lxml is installed (python-docx, behind the council's
# papers, needs it), and that writer turns every non-ASCII character into a numeric
# reference (&#7893;): valid, but the Vietnamese text is then neither byte-identical nor
# searchable in the file, and five times its size. The standard library's writer keeps
# UTF-8. Read by openpyxl when it is first imported, which happens below this package.
os.environ.setdefault("OPENPYXL_LXML", "False")
