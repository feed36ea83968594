"""Several processes on one PostgreSQL: leader election (advisory lock) and the shared
delivery work queue and its drain. It may import delivery and every stage below it.
"""

from hotpapers.cluster.leader import AlwaysLeader, LeaderElection, process_name

__all__ = ["AlwaysLeader", "LeaderElection", "process_name"]
