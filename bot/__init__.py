"""Welcome Desk: a multilingual assistant for a city's newcomer one-stop shop.

This top-level package is imported by both Python environments, so it and its
direct modules (`languages`, `topics`) use the standard library only. Each
subpackage says at its top which environment imports it.
"""
