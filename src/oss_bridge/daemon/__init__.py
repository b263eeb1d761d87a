"""The daemon: one process serving HTTP and running the scheduled jobs (``oss-bridge run``).

``build_runtime(settings)`` wires store, HTTP clients, national-system clients, services, the
run service, the scheduler and the HTTP application; ``run_daemon(settings)`` runs them until
SIGTERM or SIGINT and stops in order; ``run_demo(settings)`` does the same beside the mock
national systems, with sample data (``oss-bridge demo``). ``InstanceLock`` keeps a second daemon
off a SQLite file.
"""

from oss_bridge.daemon._demo import demo_settings, mild_faults, run_demo, sample_drafts
from oss_bridge.daemon._lock import InstanceLock, lock_path
from oss_bridge.daemon._runtime import Runtime, Transports, build_runtime
from oss_bridge.daemon._scheduler import JobScheduler, JobSpec, first_runs_after, job_specs
from oss_bridge.daemon._serve import run_daemon

__all__ = [
    "InstanceLock",
    "JobScheduler",
    "JobSpec",
    "Runtime",
    "Transports",
    "build_runtime",
    "demo_settings",
    "first_runs_after",
    "job_specs",
    "lock_path",
    "mild_faults",
    "run_daemon",
    "run_demo",
    "sample_drafts",
]
