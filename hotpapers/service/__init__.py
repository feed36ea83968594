"""`hotpapers run`: the use-cases every entry point calls (collect, measure, rank, write),
the schedule, the job bodies and the long-running app. It may import every stage; only
the entry points (cli, demo) and the bot import it.
"""
