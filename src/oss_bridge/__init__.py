"""oss-bridge: keeps a regional licensing office in step with the national OSS and SP4N-LAPOR! systems."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("oss-bridge")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
