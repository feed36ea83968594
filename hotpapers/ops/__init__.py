"""Operations: job status for /healthz, data freshness and the HTTP endpoints for them.
It may import cluster and every stage below it.
"""
