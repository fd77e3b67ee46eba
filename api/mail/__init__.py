"""E-mail: reminders and safety-alert notices sent through SMTP by the background worker.

``messages`` writes texts that carry no health or identifying information, ``outbox`` queues them in
the caller's transaction, ``smtp`` delivers one, ``reminders`` decides who is reminded when, and
``tasks`` registers the procrastinate jobs that do the sending.
"""
