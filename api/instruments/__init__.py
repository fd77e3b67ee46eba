"""Questionnaires as data: instrument definition files, their loader, scoring, protocols and schedules.

Everything here is pure (files in, typed values out) except ``loader`` (reads files) and ``store``
(named queries); routes, mail and exports use them.
"""
