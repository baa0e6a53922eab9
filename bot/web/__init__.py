"""The web app: the NLG endpoint that renders every reply, and the demo page with its chat
endpoint. App environment."""
