"""Local fake services (127.0.0.1 only) for tests, `hotpapers demo` and benchmarks."""
