"""`hotpapers demo`: the whole pipeline run offline against the local fakes, including
the Discord step through an entry point. An entry point: it may import every core
package and `hotpapers.fakes`; only the CLI imports it.
"""
