"""The web app: NLG endpoint, staff console, API and demo page. App environment."""
