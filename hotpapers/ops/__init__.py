"""Operations: job status for /healthz, Prometheus metrics."""
