"""Several processes on one PostgreSQL: leader election and the shared delivery work queue."""

from hotpapers.cluster.leader import AlwaysLeader, LeaderElection, process_name

__all__ = ["AlwaysLeader", "LeaderElection", "process_name"]
