"""Welcome Desk: a multilingual assistant for a city's newcomer one-stop shop.

This top-level package is imported by both Python environments, so it and the
direct modules the Rasa side imports (`languages`, `topics`, `folding`) use the
standard library only. Every module and subpackage says at its top which
environment imports it.
"""
