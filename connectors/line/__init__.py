"""The LINE Messaging API channel: what the platform sends and what is sent back.

- ``webhook``: the ``X-Line-Signature`` check and the webhook body as typed events;
- ``client``: the calls to the platform (reply, push, profile) with bounded retries and
  ``X-Line-Retry-Key``, so a retried push never reaches the resident twice;
- ``messages``: an answer as LINE messages within the platform's limits (sources as
  links, quick replies for the clarifying choices and suggested questions, 👍/👎);
- ``seen``: the webhook event ids already taken, so a redelivered event is answered once.

The HTTP side (the route, the queue of events, the answering) is ``ui/api/line.py``;
setup is in docs/LINE.md. Nothing here stores a LINE user id: the API keeps keyed
digests of them only (``user_digest``).
"""
