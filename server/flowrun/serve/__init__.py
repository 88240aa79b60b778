"""`flowrun serve`: production mode, the http workflows as a web service (issue 14).

Modules: `routes` (the served table), `trigger` (request → trigger), `auth`, `dispatch`
(queue, record, run), `pool` (warm engine children), `handler` (one request), `respond`
(the answer), `app` (FastAPI), `openapi`, `metrics`, `accesslog`, `reload` (hot reload),
`server` (start, recover, drain). Needs the `flowrun[serve]` extra.
"""
