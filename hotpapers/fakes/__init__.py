"""Local fake services (127.0.0.1 only) that speak arXiv's, Discord's, X's and the social
sources' wire formats, for the tests, `hotpapers demo` and the benchmarks. It may
import arxiv, storage, plumbing and the base modules.
"""
