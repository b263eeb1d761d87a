"""Data files shipped inside the package.

``sample/`` holds service-standard pages the project wrote itself, restating the facts of the
first office's published pages, so that the demo has a page to import on any machine.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SAMPLE_PAGE = "standar-pelayanan-job-portal.txt"


def sample_page_path(name: str = SAMPLE_PAGE) -> Path:
    """The file of a packaged sample page (by default the job-portal service).

    Raises ``FileNotFoundError`` naming the file when the package was installed without it.
    """
    resource = files(__name__).joinpath("sample", name)
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"the sample page {name!r} is not installed at {str(path)!r}")
    return path
