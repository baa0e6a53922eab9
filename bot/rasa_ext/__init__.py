"""Code loaded by the Rasa server: NLU components, channels, stores.

Rasa environment (Python 3.10, imports `rasa`). Nothing here is imported by the app side.
"""
