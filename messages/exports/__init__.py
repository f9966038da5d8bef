"""What the office downloads: the Excel workbooks, the registration form and the dossier ZIP."""
