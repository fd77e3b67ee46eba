"""Authentication and authorization: password hashes, access and device tokens, throttling, roles.

Routes never check roles themselves; they depend on the rules in ``api.auth.deps``.
"""
