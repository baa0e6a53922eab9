"""The staff console (/console) and the staff API (/api): accounts, editing the directory,
its history, freshness, content gaps, import and export. App environment."""
